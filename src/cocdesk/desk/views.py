from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.generic import DetailView, FormView, ListView

from cocdesk.cases.domain import team
from cocdesk.cases.domain.deadlines import time_left
from cocdesk.cases.forms import TeamMessageForm
from cocdesk.cases.models import Case
from cocdesk.common.views import NotFoundWhenDeniedMixin
from cocdesk.orgs.models import Membership

from .access import VerifiedMemberRequiredMixin


class QueueView(VerifiedMemberRequiredMixin, ListView):
    template_name = "desk/queue.html"
    context_object_name = "cases"

    def get_queryset(self):
        return (
            Case.objects.visible_to(self.request.user)
            .exclude(wrapped_data_key=None)
            .select_related("organization", "space")
            .order_by("-is_urgent", "acknowledge_due", "received_at")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        now = timezone.now()
        for case in context["cases"]:
            case.acknowledge_left = time_left(case.acknowledge_due, now) if case.acknowledged_at is None else ""
            case.acknowledge_overdue = case.acknowledged_at is None and case.acknowledge_due < now
        context["memberships"] = (
            Membership.objects.active().filter(user=self.request.user).select_related("organization")
        )
        return context


class CaseMixin(VerifiedMemberRequiredMixin, NotFoundWhenDeniedMixin):
    def get_object(self, queryset=None):
        if not hasattr(self, "_case"):
            self._case = get_object_or_404(
                Case.objects.select_related("organization", "space"), reference=self.kwargs["reference"]
            )
        return self._case


class CaseDetailView(CaseMixin, DetailView):
    permission_required = "cases.view_case"
    template_name = "desk/case.html"
    context_object_name = "case"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["reports"] = [] if self.object.is_erased else team.read_case(self.object, reader=self.request.user)
        context["message_form"] = kwargs.get("message_form") or TeamMessageForm()
        context["acknowledge_left"] = time_left(self.object.acknowledge_due, timezone.now())
        context.update(team.case_team_panel(self.object, viewer=self.request.user))
        return context


class MessageReporterView(CaseMixin, FormView):
    permission_required = "cases.message_reporter"
    form_class = TeamMessageForm
    http_method_names = ["post"]

    def form_valid(self, form):
        case = self.get_object()
        report_id = self.request.POST.get("report", "")
        if not report_id.isdigit():
            raise Http404("Not found")
        report = get_object_or_404(case.reports, pk=int(report_id))
        team.message_reporter(case, report, author=self.request.user, body=form.cleaned_data["body"])
        messages.success(self.request, "Message saved. The reporter reads it with their receipt.")
        return redirect("desk:case", reference=case.reference)

    def form_invalid(self, form):
        view = CaseDetailView(request=self.request, kwargs=self.kwargs, object=self.get_object())
        return view.render_to_response(view.get_context_data(message_form=form))
