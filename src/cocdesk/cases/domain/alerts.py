"""Who on the team hears about a case, and what they are told. Each list is one query over the members who may
see the case (``queries.members_who_may_see``): recused members and members of other spaces never hear of it.
Notices name the case by reference and link to it; they never carry its content."""

from cocdesk.notify.domain import member_notification, notice_body, notify_members, page_chat, queue, queue_case_notices

from ..enums import Channel
from .queries import members_who_may_lead, members_who_may_see


def eligible_handlers(case):
    """Responders and leads who may see the case (and fallback members, once it fell to them)."""
    return members_who_may_see(case)


def leads(case):
    return members_who_may_lead(case)


def leads_among(case, handlers):
    """The same members as ``members_who_may_lead``, picked from an already loaded list of handlers."""
    return [m for m in handlers if m.is_lead or (case.under_fallback and m.is_fallback)]


def new_report_notice(case):
    space = f" ({case.space.name})" if case.space else ""
    return {
        "kind": "new_report",
        "subject": f"[CoC Desk] New report: case {case.reference}{space}",
        "lines": [
            f"A new report arrived for {case.organization.name}{space} by {Channel(case.channel).label.lower()}.",
            f"Acknowledge it before {case.acknowledge_due:%Y-%m-%d %H:%M %Z}.",
        ],
    }


def urgent_page_notice(case):
    return {
        "kind": "urgent_page",
        "subject": f"[CoC Desk] URGENT case {case.reference}",
        "lines": [
            f"URGENT: a report for {case.organization.name} says the incident is ongoing or someone is in danger.",
            "Any lead may act alone to keep people safe; record what you did on the case so the team can review it.",
        ],
    }


def automatic_recusal_notice(case):
    # Who it is stays on the case page: a mail naming them would say who was reported.
    return {
        "kind": "automatic_recusal",
        "subject": f"[CoC Desk] A team member was recused automatically from case {case.reference}",
        "lines": [
            f"A team member was recused automatically from case {case.reference} because of what the report says.",
            "A lead can see who on the case page, and reinstate them if it was a mistake.",
        ],
    }


def fallback_engaged_notice(case):
    return {
        "kind": "fallback_engaged",
        "subject": f"[CoC Desk] You are needed as temporary lead on case {case.reference}",
        "lines": [
            f"More lead responders than your organization's threshold ({case.organization.recusal_threshold}) "
            f"have recused themselves from case {case.reference}.",
            "As a fallback member you now have access to this case, and this case only, as a temporary lead.",
        ],
    }


def _notices(memberships, case, notice):
    body = notice_body(case, notice["lines"])
    return [member_notification(membership, case=case, body=body, **notice) for membership in memberships]


def announce_new_case(case, *, automatic_recusal=False, fallback_engaged=False, handlers=None):
    """The procedures: whoever takes a report consults the team at once; an urgent one pages every lead. One
    query for the recipients (none when intake passes ``handlers``, the members who may see the case, from the
    team it loaded), one insert for every notice and one for their delivery tasks (one statement for both on
    PostgreSQL)."""
    handlers = list(members_who_may_see(case)) if handlers is None else handlers
    leads_here = leads_among(case, handlers)
    notices = [(handlers, new_report_notice(case))]
    if case.is_urgent:
        notices.append((leads_here, urgent_page_notice(case)))
    if automatic_recusal:
        notices.append((leads_here, automatic_recusal_notice(case)))
    if fallback_engaged:
        notices.append(([m for m in handlers if m.is_fallback], fallback_engaged_notice(case)))
    queue_case_notices(case, notices, ids=False)
    if case.is_urgent:
        _page_chat(case)


def page_leads(case):
    queue(_notices(leads(case), case, urgent_page_notice(case)))
    _page_chat(case)


def _page_chat(case):
    page_chat(case, subject=urgent_page_notice(case)["subject"], lines=["An urgent report needs a lead now."])


def ask_team_to_review(case, *, taken_by):
    notify_members(
        eligible_handlers(case).exclude(user_id=taken_by.pk),
        case=case,
        kind="review_immediate_action",
        subject=f"[CoC Desk] Please review an immediate action on case {case.reference}",
        lines=[f"A lead acted alone on urgent case {case.reference}. The team is asked to review what was done."],
    )


def assignees_or_team(case):
    """The assigned members who may still see the case; if none is left, everyone who handles it."""
    handlers = list(eligible_handlers(case))
    assigned = set(case.assignees.values_list("pk", flat=True))
    return [m for m in handlers if m.pk in assigned] or handlers


def suggest_merge(named_case, new_case):
    """A mail names a case in its subject but does not come from its reporter: it became a case of its own, and
    the leads who may see the named case are asked whether the two belong together. Never threaded silently."""
    notify_members(
        members_who_may_lead(named_case),
        case=named_case,
        kind="thread_suggestion",
        subject=f"[CoC Desk] A new mail names case {named_case.reference}",
        lines=[
            f"A mail that names case {named_case.reference} in its subject came from an address that is not its "
            f"reporter's. It became a new case, {new_case.reference}, so nothing is lost and its clocks run.",
            "If it belongs to the same incident, merge it on that case's page.",
        ],
    )


def tell_mail_bounced(case):
    notify_members(
        assignees_or_team(case),
        case=case,
        kind="reporter_mail_bounced",
        subject=f"[CoC Desk] Mail to the reporter of case {case.reference} bounced",
        lines=[
            f"A mail to the reporter of case {case.reference} came back undelivered: their address does not take "
            "mail. Messages to them now wait on the web page, which they can open only with a receipt.",
        ],
    )
