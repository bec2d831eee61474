from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.generic import View

from cocdesk.cases.domain import recusal as recusals
from cocdesk.cases.enums import RecusalSource
from cocdesk.cases.forms import DeclareRecusalForm, RecuseMemberForm, ReinstateForm
from cocdesk.orgs.models import Membership
from cocdesk.orgs.rules import can

from .views import CaseMixin


class DeclareRecusalView(CaseMixin, View):
    """A member declares their own conflict of interest; the case disappears for them at once."""

    permission_required = "cases.declare_recusal"
    http_method_names = ["get", "post"]

    def get(self, request, reference):
        return render(request, "desk/declare_recusal.html", {"case": self.get_object(), "form": DeclareRecusalForm()})

    def post(self, request, reference):
        case = self.get_object()
        form = DeclareRecusalForm(request.POST)
        if not form.is_valid():
            return render(request, "desk/declare_recusal.html", {"case": case, "form": form})
        membership = Membership.objects.active().get(user=request.user, organization=case.organization)
        recusals.recuse(
            case,
            membership,
            reason=form.cleaned_data["reason"],
            source=RecusalSource.DECLARED,
            by=request.user,
            note=form.cleaned_data["note"],
        )
        messages.success(request, "You are recused. That case no longer appears anywhere for you.")
        return redirect("desk:queue")


class RecuseMemberView(CaseMixin, View):
    """A lead records another member's conflict of interest."""

    permission_required = "cases.manage_recusals"
    http_method_names = ["post"]

    def post(self, request, reference):
        case = self.get_object()
        form = RecuseMemberForm(request.POST, case=case)
        if form.is_valid():
            try:
                recusals.recuse(
                    case,
                    form.cleaned_data["membership"],
                    reason=form.cleaned_data["reason"],
                    source=RecusalSource.DECLARED,
                    by=request.user,
                    note=form.cleaned_data["note"],
                )
            except ValidationError as error:
                messages.error(request, error.messages[0])
            else:
                messages.success(request, f"{form.cleaned_data['membership'].display_name} is recused from this case.")
                if not can(request.user, "cases.view_case", case):
                    return redirect("desk:queue")
        else:
            errors = "; ".join(error for field_errors in form.errors.values() for error in field_errors)
            messages.error(request, f"Not recorded: {errors}")
        return redirect("desk:case", reference=case.reference)


class ReinstateView(CaseMixin, View):
    permission_required = "cases.manage_recusals"
    http_method_names = ["post"]

    def post(self, request, reference, recusal_id):
        case = self.get_object()
        recusal = get_object_or_404(case.recusals.filter(is_active=True), pk=recusal_id)
        form = ReinstateForm(request.POST)
        if form.is_valid():
            try:
                recusals.reinstate(recusal, by=request.user, reason=form.cleaned_data["reason"])
            except ValidationError as error:
                messages.error(request, error.messages[0])
            else:
                messages.success(request, f"{recusal.membership.display_name} is reinstated on this case.")
        else:
            messages.error(request, form.errors["reason"][0])
        return redirect("desk:case", reference=case.reference)
