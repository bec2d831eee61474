"""Staff take a report in person or by phone, guided by the playbook, and keep no access to it afterwards."""

import secrets

from django import forms
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.views.generic import View

from cocdesk.cases.domain import intake
from cocdesk.cases.domain.debrief import debrief_rows
from cocdesk.cases.enums import Channel
from cocdesk.cases.forms import ReportForm
from cocdesk.cases.models import Report
from cocdesk.orgs import access
from cocdesk.orgs.enums import SpaceKind
from cocdesk.orgs.models import Space
from cocdesk.orgs.rules import can
from cocdesk.people.domain.suggestions import case_people

from .access import OrganizationPermissionMixin, VerifiedMemberRequiredMixin


class StaffReportForm(ReportForm):
    channel = forms.ChoiceField(
        label="How was the report made?",
        choices=[(Channel.IN_PERSON, "In person"), (Channel.PHONE, "By phone")],
        widget=forms.RadioSelect,
        initial=Channel.IN_PERSON,
    )


class FileReportView(OrganizationPermissionMixin, View):
    organization_permission = "orgs.file_report"

    def get(self, request, org_slug):
        form = StaffReportForm(organization=self.organization, initial={"submission_token": secrets.token_urlsafe(24)})
        return self._render(form)

    def post(self, request, org_slug):
        form = StaffReportForm(request.POST, organization=self.organization)
        if not form.is_valid():
            return self._render(form)
        try:
            case, receipt = intake.submit_report(
                organization=self.organization,
                answers=form.content(),
                space=form.cleaned_data["space"],
                excluded_members=list(form.cleaned_data.get("excluded_members") or []),
                channel=form.cleaned_data["channel"],
                submission_token=form.cleaned_data["submission_token"],
                filed_by=request.user,
            )
        except intake.AlreadySubmitted:
            return render(request, "public/already_received.html", {"organization": self.organization})
        context = {"organization": self.organization, "case": case, "receipt": receipt}
        context.update(people_named(case, request.user))
        return render(request, "desk/staff_received.html", context)

    def _render(self, form):
        return render(
            request=self.request,
            template_name="desk/staff_report.html",
            context={"organization": self.organization, "form": form},
        )


def people_named(case, filer):
    """The suggestions for each person the report names, for a filer who handles the organization's people and may
    see the case (a lead taking a report at the desk); a staff member or volunteer learns nothing about anyone's
    history here."""
    # The report may have recused the filer (named in it): their access is read anew.
    access.forget()
    if not (can(filer, "cases.view_case", case) and can(filer, "people.name_in_case", case)):
        return {"people_named": None}
    return {"people_named": case_people(case, filer)}


class FiledReportsView(VerifiedMemberRequiredMixin, View):
    """A staff member's own summary: which reports they filed and when; never their content."""

    def get(self, request):
        reports = (
            Report.objects.filter(filed_by=request.user).select_related("case__organization").order_by("-received_at")
        )
        return render(request, "desk/staff_filed.html", {"reports": reports})


class DebriefView(VerifiedMemberRequiredMixin, View):
    def get(self, request, space_id):
        space = get_object_or_404(Space.objects.select_related("organization"), pk=space_id)
        if space.kind != SpaceKind.CONFERENCE or not can(request.user, "orgs.read_space_debrief", space):
            raise Http404("Not found")
        return render(request, "desk/debrief.html", {"space": space, "rows": debrief_rows(space, reader=request.user)})
