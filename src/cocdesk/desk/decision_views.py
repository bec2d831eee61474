"""The decision page: the leads of a case record the team's finding, votes, the people it concerns and the measures
taken, and the reporter's outcome message goes out in the same step. Beside the form, the people's history in the
organization and the playbook's expulsion guidelines advise the team."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.generic import View

from cocdesk.cases.domain import content as sealed
from cocdesk.cases.domain.team import case_reports
from cocdesk.cases.enums import OPEN_STATES, Finding
from cocdesk.common import audit
from cocdesk.orgs.rules import can
from cocdesk.sanctions.decision_forms import (
    ActionFormSet,
    DecisionForm,
    identifier_values,
    outcome_in_words,
    outcome_opening,
    parse_subjects,
    subjects_from_reports,
)
from cocdesk.sanctions.domain import decisions
from cocdesk.sanctions.domain.history import person_history
from cocdesk.sanctions.enums import DecisionRule

from .views import CaseMixin

ACTIONS_PREFIX = "actions"
MAX_ACTION_ROWS = 20
CLOSED_TO_DECISIONS = "This case already has a decision, or is closed: reopen it to decide again."


class DecisionView(CaseMixin, View):
    permission_required = "sanctions.record_decision"
    http_method_names = ["get", "post"]

    def _refusal(self, case):
        """A case that cannot be decided now (decided, closed, merged, erased): back to it, saying why."""
        if case.is_erased:
            raise Http404("Not found")
        if case.state in OPEN_STATES:
            return None
        messages.error(self.request, CLOSED_TO_DECISIONS)
        return redirect("desk:case", reference=case.reference)

    def get(self, request, reference):
        case = self.get_object()
        refused = self._refusal(case)
        if refused is not None:
            return refused
        reports = list(case_reports(case))
        initial = {
            "subjects": subjects_from_reports(sealed.report_content(report) for report in reports),
            "outcome_body": outcome_opening(case.organization),
            "report": reports[0].pk if reports else None,
        }
        return self._render(case, reports, form_data=None, form_initial=initial, actions_data=None)

    def post(self, request, reference):
        case = self.get_object()
        refused = self._refusal(case)
        if refused is not None:
            return refused
        reports = list(case_reports(case))
        data = request.POST.copy()
        if "add_action" in data or "compose" in data:
            # Buttons that help fill the form in: nothing is recorded, everything typed comes back.
            actions = self._actions(case, data)
            if "add_action" in data:
                total = min(int(data.get(f"{ACTIONS_PREFIX}-TOTAL_FORMS") or 0) + 1, MAX_ACTION_ROWS)
                data[f"{ACTIONS_PREFIX}-TOTAL_FORMS"] = str(total)
            else:
                actions.is_valid()
                data["outcome_body"] = outcome_in_words(case.organization, data.get("finding"), actions.actions())
            return self._render(case, reports, form_data=None, form_initial=data.dict(), actions_data=data)
        form = self._form(case, reports, data=data)
        actions = self._actions(case, data)
        if form.is_valid() and actions.is_valid():
            try:
                self._record(case, reports, form, actions)
            except PermissionDenied as denied:
                raise Http404("Not found") from denied
            except ValidationError as refused:
                form.add_error(None, refused)
            else:
                messages.success(request, "The decision is recorded and the outcome sent to the reporter.")
                return redirect("desk:case", reference=case.reference)
        return self._render(case, reports, form=form, actions=actions)

    def _record(self, case, reports, form, actions):
        data = form.cleaned_data
        report = next((report for report in reports if report.pk == data["report"]), None)
        action_id = data.get("confirms_action")
        confirms = case.immediate_actions.filter(pk=action_id).first() if action_id else None
        if report is None or (action_id and confirms is None):
            raise ValidationError("Choose among this case's reports and immediate actions.")
        decisions.record_decision(
            case,
            by=self.request.user,
            finding=data["finding"],
            rationale=data["rationale"],
            votes=form.votes(),
            subjects=data["subjects"],
            actions=actions.actions(),
            outcome_report=report,
            outcome_body=data["outcome_body"],
            confirms_action=confirms,
        )

    def _form(self, case, reports, *, data=None, initial=None):
        if not hasattr(self, "_members"):
            self._members = list(decisions.members_for_votes(case))
            self._immediate_actions = list(case.immediate_actions.select_related("taken_by"))
        return DecisionForm(
            data,
            initial=initial,
            members=self._members,
            reports=reports,
            immediate_actions=self._immediate_actions,
        )

    def _actions(self, case, data=None):
        spaces = case.organization.spaces.filter(is_active=True).order_by("name")
        return ActionFormSet(
            data, prefix=ACTIONS_PREFIX, form_kwargs={"organization": case.organization, "spaces": spaces}
        )

    def _render(self, case, reports, *, form=None, actions=None, form_data=None, form_initial=None, actions_data=None):
        if form is None:
            form = self._form(case, reports, data=form_data, initial=form_initial)
        if actions is None:
            actions = self._actions(case, actions_data)
        typed = form.data.get("subjects") if form.is_bound else (form_initial or {}).get("subjects", "")
        history = person_history(case, viewer=self.request.user, values=identifier_values(parse_subjects(typed)))
        # The page shows what the reports say about the reported person: a read of the case's content.
        audit.record("case.opened", actor=self.request.user, case=case, page="decision")
        organization = case.organization
        return render(
            self.request,
            "desk/decision.html",
            {
                "case": case,
                "form": form,
                "actions": actions,
                "history": history,
                "rule": DecisionRule(organization.decision_rule).label,
                "several_reports": len(reports) > 1,
            },
        )


def decision_panel(case, *, viewer, decision):
    """The case page's decision section: the current decision (``decisions.current_decision``, read once for the
    page) for those who may see the case, and the way to record one for its leads. A fixed number of queries."""
    panel = {"decision": None, "can_decide": can(viewer, "sanctions.record_decision", case) and not case.is_erased}
    if decision is None:
        return {"decision_panel": panel}
    sanctions = []
    for sanction in decision.sanctions.all():
        sanction.organization = case.organization  # the registry key is unwrapped once per page
        sanctions.append(
            {
                "sanction": sanction,
                "spaces": [space.name for space in sanction.spaces.all()],
                "terms": decisions.terms_of(sanction),
            }
        )
    decision.case = case
    panel["decision"] = {
        "decision": decision,
        "finding": dict(Finding.choices).get(decision.finding, decision.finding),
        "rationale": decisions.rationale_of(decision),
        "votes": list(decision.votes.all()),
        "subjects": list(decision.subjects.all()),
        "sanctions": sanctions,
    }
    return {"decision_panel": panel}
