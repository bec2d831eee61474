"""Decision support: what the organization already knows about the people a decision concerns, and the playbook's
expulsion guidelines read against it. It advises; the team decides.

Only what the viewer may see is read: sanctions of cases they may not see (recused, another space) are left out
entirely, so a recused member learns nothing of a case from a person's history."""

from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone

from cocdesk.cases.models import Case
from cocdesk.people.domain.registry import people_matching

from ..enums import SanctionKind, SanctionState
from ..models import Decision, Sanction

# What the playbook counts as a warning from staff: "a third offense that resulted in a warning".
WARNING_KINDS = (SanctionKind.VERBAL_WARNING, SanctionKind.PRIVATE_REPRIMAND, SanctionKind.PUBLIC_REPRIMAND)
# Measures that told the person to stop, or to stay away from someone.
TOLD_TO_STOP_KINDS = (*WARNING_KINDS, SanctionKind.NO_CONTACT)
# Overturned measures never happened, as far as the person's history goes.
STANDING_STATES = (SanctionState.ACTIVE, SanctionState.EXPIRED, SanctionState.ENDED, SanctionState.MODIFIED)


@dataclass
class Guideline:
    text: str
    # "applies": the history shows it; "not_shown": the history does not; "judge": only the team can tell.
    verdict: str
    because: str = ""


@dataclass
class History:
    people: list = field(default_factory=list)
    sanctions: list = field(default_factory=list)
    other_cases: list = field(default_factory=list)
    guidelines: list = field(default_factory=list)

    @property
    def is_empty(self):
        return not self.sanctions and not self.other_cases


def person_history(case, *, viewer, values):
    """The history of the people these identifiers match (names, emails, handles, badge numbers), as ``viewer``
    may see it, leaving out ``case`` itself. A fixed number of queries, whatever the size of the history."""
    organization = case.organization
    people = list(people_matching(organization, values).order_by("code_name"))
    if not people:
        return History(guidelines=guidelines_for([], []))
    visible_cases = Case.objects.visible_to(viewer).values("pk")
    sanctions = list(
        Sanction.objects.filter(organization=organization, person__in=people)
        .filter(Q(decision__isnull=True) | Q(decision__case__in=visible_cases))
        .exclude(decision__case=case)
        .select_related("person", "decision__case")
        .prefetch_related("spaces")
        .order_by("-starts_at", "-pk")
    )
    decisions = (
        Decision.objects.filter(is_current=True, subjects__in=people, case__in=visible_cases)
        .exclude(case=case)
        .select_related("case")
        .order_by("-decided_at", "-pk")
        .distinct()
    )
    other_cases = [
        {"case": decision.case, "finding": decision.get_finding_display(), "decided_at": decision.decided_at}
        for decision in decisions
    ]
    return History(
        people=people,
        sanctions=sanctions,
        other_cases=other_cases,
        guidelines=guidelines_for(sanctions, other_cases),
    )


def _plural(count, word):
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def guidelines_for(sanctions, other_cases):
    """The playbook's guidelines for expelling a participant, each read against the history."""
    standing = [sanction for sanction in sanctions if sanction.state in STANDING_STATES]
    warnings = [sanction for sanction in standing if sanction.kind in WARNING_KINDS]
    told_to_stop = [sanction for sanction in standing if sanction.kind in TOLD_TO_STOP_KINDS]
    earlier_incidents = len(other_cases) + len([s for s in standing if s.decision_id is None])

    if len(warnings) >= 2:
        third = Guideline(
            "A third offence that resulted in a warning from staff",
            "applies",
            f"{_plural(len(warnings), 'earlier warning')}: a third offence is a reason to expel.",
        )
    else:
        third = Guideline(
            "A third offence that resulted in a warning from staff",
            "not_shown",
            f"{_plural(len(warnings), 'earlier warning')} on record.",
        )
    if told_to_stop:
        latest = max(sanction.starts_at for sanction in told_to_stop)
        stop = Guideline(
            'Continuing to harass after any "No" or "Stop" instruction',
            "applies",
            f"They were told to stop before (latest {timezone.localtime(latest):%d %b %Y}): if this continued "
            "after it, that is a reason to expel. Also check the reports for a 'no' or 'stop' they ignored.",
        )
    else:
        stop = Guideline(
            'Continuing to harass after any "No" or "Stop" instruction',
            "judge",
            "No earlier warning on record: check the reports for a 'no' or 'stop' they ignored.",
        )
    if earlier_incidents:
        pattern = Guideline(
            "A pattern of harassing behaviour, with or without warnings",
            "applies",
            f"{_plural(earlier_incidents, 'earlier incident')} on record besides this case: if they show a "
            "pattern, that is a reason to expel.",
        )
    else:
        pattern = Guideline(
            "A pattern of harassing behaviour, with or without warnings",
            "not_shown",
            "No earlier incident on record that you may see.",
        )
    return [
        third,
        stop,
        pattern,
        Guideline("A single serious offence (for example punching or groping someone)", "judge"),
        Guideline("A single obviously intentional offence (for example taking up-skirt photos)", "judge"),
    ]
