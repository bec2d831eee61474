"""Writing the mails to a sanctioned person when the queue sends them: the notice (with its appeal link) and the
answer to an appeal. Each notification row holds only a reference ("notice:<pk>" or "appeal:<pk>"); the text and
the address come from the sealed notice.

The appeal token is drawn here, as the mail is written, and only its digest is saved, in the sending transaction:
a failed attempt rolls the digest back and the next attempt draws a new token, so the link in the mail that went
out is the one that works."""

from django.conf import settings
from django.urls import reverse
from django.utils import dateformat, timezone

from cocdesk.cases.domain import content as sealed

from ..enums import AppealState
from ..models import Appeal, Notice
from .notices import LABELS, PARTS, appealable, describe, new_appeal_token, notice_content, sanctions_of

APPEAL_REASON = "appeal-reason"
PERMANENT_ONLY = "Only permanent resolutions (such as bans) may be appealed."


def compose(notification):
    """(address, body) of a mail to a sanctioned person."""
    kind, _, pk = notification.body.partition(":")
    if kind == "notice":
        notice = Notice.objects.select_related("decision__case__organization").get(pk=pk)
        return notice_content(notice)["address"], notice_body(notice)
    appeal = Appeal.objects.select_related("notice__decision__case__organization").get(pk=pk)
    return notice_content(appeal.notice)["address"], outcome_body(appeal)


def appeal_link(token):
    return settings.BASE_URL + reverse("public:appeal", kwargs={"token": token})


def notice_body(notice):
    """The four parts, the sanctions, and the appeal link when one of them is permanent."""
    content = notice_content(notice)
    organization = notice.decision.case.organization
    sanctions = list(sanctions_of(notice))
    lines = [f"A notice from the Code of Conduct team of {organization.name}", ""]
    for part in PARTS:
        lines += [LABELS[part], content[part], ""]
    if sanctions:
        lines += ["What the team decided:", *(f"- {describe(sanction)}" for sanction in sanctions), ""]
    if appealable(sanctions) and notice.appeal_closes_at:
        token, notice.appeal_token_digest = new_appeal_token()
        Notice.objects.filter(pk=notice.pk).update(appeal_token_digest=notice.appeal_token_digest)
        closes = dateformat.format(timezone.localtime(notice.appeal_closes_at), "j F Y")
        lines += [
            f"{PERMANENT_ONLY} You may appeal this decision once, until {closes}, with a statement, at this "
            "private link. Keep it to yourself: anyone with it can appeal in your name.",
            appeal_link(token),
            "",
        ]
    else:
        lines += [PERMANENT_ONLY + " The measures above are not permanent, so they cannot be appealed.", ""]
    return "\n".join(lines)


def appeal_reason(appeal):
    if not appeal.sealed_reason:
        return ""
    return sealed.unseal(appeal.notice.decision.case, APPEAL_REASON, bytes(appeal.sealed_reason))["reason"]


OUTCOME_WORDS = {
    AppealState.UPHELD: "The team reviewed your appeal and upheld the decision: it stays as it was.",
    AppealState.MODIFIED: "The team reviewed your appeal and changed the decision.",
    AppealState.OVERTURNED: "The team reviewed your appeal and overturned the decision: the measure has ended.",
}


def outcome_body(appeal):
    organization = appeal.notice.decision.case.organization
    lines = [
        f"The answer of the Code of Conduct team of {organization.name} to your appeal",
        "",
        OUTCOME_WORDS[appeal.state],
        "",
        "Why:",
        appeal_reason(appeal),
        "",
        "Reviewed by members of the team who took no part in the decision you appealed.",
    ]
    sanctions = list(sanctions_of(appeal.notice).filter(replaces__isnull=False))
    if sanctions:
        lines += ["", "What applies now:", *(f"- {describe(sanction)}" for sanction in sanctions)]
    return "\n".join(lines)
