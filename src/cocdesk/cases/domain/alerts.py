"""Who on the team hears about a case, and when. Each list is one query over the members who may see the case
(``queries.members_who_may_see``): recused members and members of other spaces never hear of it."""

from cocdesk.notify.domain import notify_members, page_chat

from .queries import members_who_may_lead, members_who_may_see


def eligible_handlers(case):
    """Responders and leads who may see the case (and fallback members, once it fell to them)."""
    return members_who_may_see(case)


def leads(case):
    return members_who_may_lead(case)


def fallback_members(case):
    """The fallback members who may see the case: call once it fell to them."""
    return members_who_may_see(case).filter(is_fallback=True)


def announce_new_case(case):
    """The procedures: whoever takes a report consults the team at once; an urgent one pages every lead."""
    space = f" ({case.space.name})" if case.space else ""
    notify_members(
        eligible_handlers(case),
        case=case,
        kind="new_report",
        subject=f"[CoC Desk] New report: case {case.reference}{space}",
        lines=[
            f"A new report arrived for {case.organization.name}{space} by {case.get_channel_display().lower()}.",
            f"Acknowledge it before {case.acknowledge_due:%Y-%m-%d %H:%M %Z}.",
        ],
    )
    if case.is_urgent:
        page_leads(case)


def page_leads(case):
    lines = [
        f"URGENT: a report for {case.organization.name} says the incident is ongoing or someone is in danger.",
        "Any lead may act alone to keep people safe; record what you did on the case so the team can review it.",
    ]
    subject = f"[CoC Desk] URGENT case {case.reference}"
    notify_members(leads(case), case=case, kind="urgent_page", subject=subject, lines=lines)
    page_chat(case, subject=subject, lines=["An urgent report needs a lead now."])


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
    handlers = eligible_handlers(case)
    assignees = list(handlers.filter(assigned_cases=case))
    return assignees or handlers
