"""The team's queue: a page of 50 cases the member may see, filtered, counted per state, found by reference."""

from django import forms
from django.contrib import messages
from django.db.models import prefetch_related_objects
from django.shortcuts import redirect
from django.template import engines
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.generic import TemplateView

from cocdesk.cases.domain.deadlines import time_left
from cocdesk.cases.domain.queries import COUNT_CAP, QUEUE_SHOWS, find_visible_case, queue_page
from cocdesk.cases.enums import CaseState, DeadlineKind
from cocdesk.common.prepared_objects import PreparedObjects, set_prefetched
from cocdesk.orgs.access import access_for
from cocdesk.orgs.enums import SpaceKind
from cocdesk.orgs.models import Membership, Space

from .access import VerifiedMemberRequiredMixin

PAGE_SIZE = 50
MAX_PAGE = 10_000


class QueueFilterForm(forms.Form):
    show = forms.ChoiceField(
        required=False,
        choices=[("open", "Open"), ("finished", "Closed and merged"), ("all", "All"), *CaseState.choices],
    )
    space = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    urgent = forms.BooleanField(required=False, label="Urgent")
    overdue = forms.BooleanField(required=False, label="Overdue")
    fallback = forms.BooleanField(required=False, label="Fallback handling")
    mine = forms.BooleanField(required=False, label="Assigned to me")
    unassigned = forms.BooleanField(required=False, label="Unassigned")
    page = forms.IntegerField(required=False, min_value=1, max_value=MAX_PAGE)

    def __init__(self, *args, spaces, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["space"].choices = [("", "Every space"), *((space.pk, space.name) for space in spaces)]

    def filters(self):
        """The valid filters; anything unreadable falls back to the default, never to an error page."""
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "show": data.get("show") or "open",
            "space_id": data.get("space"),
            **{name: bool(data.get(name)) for name in ("urgent", "overdue", "fallback", "mine", "unassigned")},
        }


def next_deadline(case, now):
    """What the queue says of a case's nearest promise, from its stored columns."""
    if case.next_due_at is None:
        return {"next_due": None, "next_kind": "", "time_left": "", "overdue": False}
    kind = (
        DeadlineKind.ACKNOWLEDGE
        if case.acknowledged_at is None and case.next_due_at == case.acknowledge_due
        else DeadlineKind.UPDATE
    )
    return {
        "next_due": case.next_due_at,
        "next_kind": kind,
        "time_left": time_left(case.next_due_at, now),
        "overdue": case.next_due_at < now,
    }


class QueueView(VerifiedMemberRequiredMixin, TemplateView):
    """Urgent cases first, then by the time left to the nearest promise; 50 to a page."""

    template_name = "desk/queue.html"

    def get(self, request, *args, **kwargs):
        reference = request.GET.get("reference", "").strip()
        if reference:
            case = find_visible_case(request.user, reference)
            if case is not None:
                return redirect("desk:case", reference=case.reference)
            messages.error(request, f"No case with the reference “{reference[:40]}” that you can see.")
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, now = self.request.user, timezone.now()
        memberships, spaces = _memberships_and_spaces(user)
        form = QueueFilterForm(self.request.GET or None, spaces=spaces)
        filters = form.filters()
        page = (form.cleaned_data.get("page") if form.is_bound and form.is_valid() else None) or 1
        rows, counts = queue_page(user, now=now, page=page, page_size=PAGE_SIZE, **filters)
        prefetch_related_objects(rows[:PAGE_SIZE], "assignees")
        for case in rows[:PAGE_SIZE]:
            case.__dict__.update(next_deadline(case, now))
        shown_states = QUEUE_SHOWS.get(filters["show"], QUEUE_SHOWS["open"])
        context.update(
            {
                "cases": rows[:PAGE_SIZE],
                "queue_rows": _rendered_rows(rows[:PAGE_SIZE]),
                "page": page,
                "has_next": len(rows) > PAGE_SIZE,
                "has_previous": page > 1,
                "total": shown_count(sum(counts.get(state, 0) for state in shown_states)),
                "state_counts": [
                    (value, label, shown_count(counts.get(value, 0))) for value, label in CaseState.choices
                ],
                "filter_form": form,
                "filters": filters,
                "filter_name": filters["show"],
                "query_without_page": _query_without(self.request.GET, "page"),
                "memberships": memberships,
                "appeals": _appeals_for(user, now),
            }
        )
        return context


# Every queue view reads the member's memberships and their organizations' spaces: compiled once per worker.
_memberships = PreparedObjects(
    lambda user_id: Membership.objects.active().filter(user_id=user_id).select_related("organization"), int
)
_spaces = PreparedObjects(
    lambda user_id: Space.objects.filter(
        organization_id__in=Membership.objects.active().filter(user_id=user_id).values("organization_id")
    ).order_by("name"),
    int,
)


def _memberships_and_spaces(user):
    """(the member's memberships, each with ``spaces`` (its scope) and ``debrief_spaces``; every space of their
    organizations, by name), in two queries: the scopes come from the request's access snapshot."""
    memberships, spaces = _memberships.objects(user.pk), _spaces.objects(user.pk)
    grants = access_for(user).grants
    for membership in memberships:
        grant = grants.get(membership.organization_id)
        scope_ids = grant.space_ids if grant is not None and grant.space_ids is not None else frozenset()
        own = [space for space in spaces if space.organization_id == membership.organization_id]
        scope = [space for space in own if space.pk in scope_ids]
        set_prefetched(membership, "spaces", scope)
        membership.debrief_spaces = [
            space
            for space in own
            if space.kind == SpaceKind.CONFERENCE and membership.handles_cases and (not scope or space in scope)
        ]
    return memberships, spaces


def _rendered_rows(cases):
    """The table's rows, rendered with Jinja2 (desk/jinja2/desk/queue_rows.html): the bulk of the page."""
    rows = engines["jinja2"].get_template("desk/queue_rows.html").render({"cases": cases})
    return mark_safe(rows)  # noqa: S308 - Jinja2 escaped every value it wrote


def _appeals_for(user, now):
    """Pending appeals the member may review, with their own deadline: one query, whatever their number."""
    from cocdesk.sanctions.domain.queries import appeals_awaiting_review

    appeals = appeals_awaiting_review(user)
    for appeal in appeals:
        appeal.time_left = time_left(appeal.review_due_at, now)
        appeal.overdue = appeal.review_due_at < now
    return appeals


def shown_count(number):
    """A count as the queue shows it: exact up to the cap, then "1,000+"."""
    return f"{COUNT_CAP:,}+" if number > COUNT_CAP else f"{number:,}"


def _query_without(query, name):
    copy = query.copy()
    copy.pop(name, None)
    copy.pop("reference", None)
    return copy.urlencode()
