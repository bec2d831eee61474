"""The team's actions on a case: each view checks a permission, calls one domain function and redirects."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.views.generic import View

from cocdesk.cases.domain import team, workflow
from cocdesk.cases.domain.workflow import TRANSITIONS
from cocdesk.cases.enums import MessageKind
from cocdesk.cases.models import Case
from cocdesk.cases.work_forms import (
    AssignForm,
    ImmediateActionForm,
    MergeForm,
    NoteForm,
    TeamMessageForm,
    TriageForm,
)
from cocdesk.orgs.models import Membership
from cocdesk.orgs.rules import can

from .views import CaseDetailView, CaseMixin


class CaseActionView(CaseMixin, View):
    """POST only. A form error re-renders the case page with what was typed; a refused change says why."""

    http_method_names = ["post"]
    form_class = None
    form_context_name = None
    auto_id = "id_%s"
    success_message = ""

    def get_form(self):
        # The same ids as on the case page (see CaseDetailView), so a refused form re-renders in place.
        return self.form_class(self.request.POST, auto_id=self.auto_id)

    def post(self, request, reference, **kwargs):
        case = self.get_object()
        form = self.get_form() if self.form_class else None
        if form is not None and not form.is_valid():
            view = CaseDetailView(request=request, kwargs=self.kwargs, object=case)
            return view.render_to_response(view.get_context_data(**{self.form_context_name: form}))
        try:
            self.act(case, form)
        except PermissionDenied as denied:
            raise Http404("Not found") from denied
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            if self.success_message:
                messages.success(request, self.success_message)
        if not can(request.user, "cases.view_case", case):
            return redirect("desk:queue")
        return redirect("desk:case", reference=case.reference)

    def act(self, case, form):
        raise NotImplementedError


class TransitionView(CaseActionView):
    permission_required = "cases.view_case"
    DONE = {
        "start_investigation": "The case is under investigation.",
        "close": "The case is closed.",
        "reopen": "The case is reopened; the reporter is owed news within the update window again.",
    }

    def act(self, case, form):
        name = self.kwargs["transition"]
        if name not in TRANSITIONS:
            raise Http404("Not found")
        workflow.transition(case, name, by=self.request.user)
        messages.success(self.request, self.DONE[name])


class MessageReporterView(CaseActionView):
    permission_required = "cases.message_reporter"
    form_class = TeamMessageForm
    form_context_name = "message_form"
    success_message = "Message saved. The reporter reads it with their receipt."

    def act(self, case, form):
        report = _report_of(case, self.request.POST.get("report", ""))
        team.message_reporter(
            case,
            report,
            author=self.request.user,
            body=form.cleaned_data["body"],
            kind=form.cleaned_data["kind"] or MessageKind.OTHER,
        )


class TriageView(CaseActionView):
    permission_required = "cases.work_on_case"
    form_context_name = "triage_form"
    success_message = "Triage saved."

    def get_form(self):
        return TriageForm(self.request.POST, case=self.get_object())

    form_class = TriageForm

    def act(self, case, form):
        workflow.record_triage(
            case,
            form.answers(),
            by=self.request.user,
            category=form.cleaned_data["category"],
            space=form.cleaned_data["space"],
        )


class NoteView(CaseActionView):
    auto_id = "note_%s"
    permission_required = "cases.work_on_case"
    form_class = NoteForm
    form_context_name = "note_form"
    success_message = "Note saved."

    def act(self, case, form):
        workflow.add_note(case, form.cleaned_data["body"], by=self.request.user)


class ImmediateActionView(CaseActionView):
    auto_id = "action_%s"
    permission_required = "cases.lead_case"
    form_class = ImmediateActionForm
    form_context_name = "action_form"
    success_message = "Recorded. The team is asked to review it."

    def act(self, case, form):
        workflow.record_immediate_action(case, form.cleaned_data["description"], by=self.request.user)


class ReviewActionView(CaseActionView):
    permission_required = "cases.work_on_case"
    success_message = "Marked as reviewed."

    def act(self, case, form):
        action = get_object_or_404(case.immediate_actions, pk=self.kwargs["action_id"])
        workflow.review_immediate_action(action, by=self.request.user)


class AssignView(CaseActionView):
    permission_required = "cases.work_on_case"
    success_message = "Assignment saved."

    def act(self, case, form):
        form = AssignForm(self.request.POST, case=case)
        if not form.is_valid():
            raise ValidationError("Only team members who may see this case can be assigned to it.")
        workflow.assign(case, list(form.cleaned_data["assignees"]), by=self.request.user)


class AssignToMeView(CaseActionView):
    permission_required = "cases.work_on_case"
    success_message = "The case is assigned to you."

    def act(self, case, form):
        membership = Membership.objects.active().get(user=self.request.user, organization=case.organization)
        workflow.assign_to_me(case, membership, by=self.request.user)


class MergeView(CaseActionView):
    permission_required = "cases.lead_case"
    form_class = MergeForm
    form_context_name = "merge_form"
    success_message = "Merged. The reports and their receipts now belong to the other case."

    def act(self, case, form):
        into = Case.objects.filter(reference=form.cleaned_data["into"].strip().upper()).first()
        if into is None or not can(self.request.user, "cases.lead_case", into):
            raise ValidationError("There is no case with that reference that you lead.")
        workflow.merge(case, into=into, by=self.request.user)


def _report_of(case, report_id):
    if not report_id.isdigit():
        raise Http404("Not found")
    return get_object_or_404(team.case_reports(case), pk=int(report_id))
