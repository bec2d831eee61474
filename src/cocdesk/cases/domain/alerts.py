"""Who on the team hears about a case, and when. Recused members never do: notify_members checks access."""

from django.db.models import Q

from cocdesk.notify.domain import notify_members, page_chat
from cocdesk.orgs.models import Membership


def eligible_handlers(case):
    """Responders and leads of the organization; notify_members drops anyone who may not see the case."""
    return (
        Membership.objects.active()
        .filter(organization=case.organization)
        .filter(Q(is_responder=True) | Q(is_lead=True))
        .select_related("user")
    )


def leads(case):
    return Membership.objects.active().filter(organization=case.organization, is_lead=True).select_related("user")


def fallback_members(case):
    return Membership.objects.active().filter(organization=case.organization, is_fallback=True).select_related("user")


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
        [m for m in eligible_handlers(case) if m.user_id != taken_by.pk],
        case=case,
        kind="review_immediate_action",
        subject=f"[CoC Desk] Please review an immediate action on case {case.reference}",
        lines=[f"A lead acted alone on urgent case {case.reference}. The team is asked to review what was done."],
    )


def assignees_or_team(case):
    """The assigned members who may still see the case; if none is left, everyone who handles it."""
    assignees = [m for m in case.assignees.select_related("user") if m.user.has_perm("cases.view_case", case)]
    return assignees or eligible_handlers(case)
