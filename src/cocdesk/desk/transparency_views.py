"""Transparency reports at the desk: the list, a new draft, the team's words (checked for identifying details before
they are kept), the review by a second member and publication by an admin; and the team's own statistics. Anyone
the rules do not allow gets 404."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.generic import View

from cocdesk.orgs.models import Organization
from cocdesk.orgs.rules import can
from cocdesk.transparency import rendering
from cocdesk.transparency.domain import drafts, review
from cocdesk.transparency.domain.statistics import team_statistics
from cocdesk.transparency.enums import ReportState
from cocdesk.transparency.forms import NewReportForm, ReportTextForm
from cocdesk.transparency.models import TransparencyReport

from .access import OrganizationPermissionMixin, VerifiedMemberRequiredMixin

try:  # the chart helper of the report's outputs; the statistics page shows tables alone without it
    from cocdesk.transparency.charts import bar_chart_svg
except ImportError:  # pragma: no cover
    bar_chart_svg = None


class ReportListView(OrganizationPermissionMixin, View):
    organization_permission = "transparency.list_reports"

    def get(self, request, org_slug):
        return self.render_list(NewReportForm(organization=self.organization))

    def render_list(self, form):
        organization = self.organization
        context = {
            "organization": organization,
            "reports": TransparencyReport.objects.filter(organization=organization).select_related("space"),
            "can_draft": can(self.request.user, "transparency.draft_report", organization),
            "form": form,
        }
        return render(self.request, "desk/transparency_list.html", context)


class NewReportView(ReportListView):
    organization_permission = "transparency.draft_report"
    http_method_names = ["post"]

    def post(self, request, org_slug):
        form = NewReportForm(request.POST, organization=self.organization)
        if form.is_valid():
            try:
                report = drafts.draft_report(self.organization, by=request.user, **form.cleaned_data)
            except PermissionDenied as denied:
                raise Http404("Not found") from denied
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, "The draft is ready: read the figures, then write the lines and narrative.")
                return redirect("desk:transparency_report", org_slug=org_slug, report_id=report.pk)
        return self.render_list(form)


class ReportMixin(VerifiedMemberRequiredMixin):
    def get_report(self):
        organization = get_object_or_404(Organization, slug=self.kwargs["org_slug"])
        report = get_object_or_404(
            TransparencyReport.objects.select_related("organization", "space", "drafted_by", "reviewed_by"),
            organization=organization,
            pk=self.kwargs["report_id"],
        )
        if not can(self.request.user, "transparency.export_report", report):
            raise Http404("Not found")
        return report


class ReportView(ReportMixin, View):
    """The report as the public will read it, the team's words to edit while it is a draft, and the next step. The
    lines, one per case, come a page at a time (``?lines=<page>``), in the preview and in the form alike."""

    def lines_window(self, report):
        """(page, index of its first line, its number of lines) of the page the address asks for."""
        page = rendering.lines_page(report.lines, self.request.GET.get(rendering.LINES_PAGE_PARAMETER, 1))
        return page, max(0, page.start_index() - 1), len(page.object_list)

    def text_form(self, report, data=None):
        _page, first, count = self.lines_window(report)
        return ReportTextForm(data, report=report, first=first, count=count)

    def get(self, request, org_slug, report_id):
        report = self.get_report()
        return self.render_report(report, self.text_form(report))

    def post(self, request, org_slug, report_id):
        report = self.get_report()
        if not can(request.user, "transparency.edit_report", report):
            raise Http404("Not found")
        form = self.text_form(report, request.POST)
        hits = []
        if form.is_valid():
            try:
                report = review.update_draft(
                    report,
                    by=request.user,
                    title=form.cleaned_data["title"],
                    narrative=form.cleaned_data["narrative"],
                    lines=form.line_texts(),
                    lines_from=form.first_line,
                    line_count=form.cleaned_data["line_count"],
                )
                if request.POST.get("then") == "submit":
                    report = review.submit_for_review(report, by=request.user)
            except PermissionDenied as denied:
                raise Http404("Not found") from denied
            except review.IdentifyingDetailsFound as found:
                hits = found.hits
                form.add_error(None, "Not saved: some words could identify someone in this period's cases.")
            except ValidationError as error:
                form.add_error(None, error)
            else:
                if report.state == ReportState.IN_REVIEW:
                    messages.success(request, "Saved and sent for review: a second member of the team reads it next.")
                else:
                    messages.success(request, "Saved. Nothing in it matches the period's cases.")
                page, _first, _count = self.lines_window(report)
                target = reverse("desk:transparency_report", kwargs={"org_slug": org_slug, "report_id": report.pk})
                return redirect(f"{target}?{rendering.LINES_PAGE_PARAMETER}={page.number}")
        return self.render_report(report, form, hits=hits)

    def render_report(self, report, form, hits=()):
        user = self.request.user
        is_draft, in_review = report.state == ReportState.DRAFT, report.state == ReportState.IN_REVIEW
        page, _first, _count = self.lines_window(report)
        context = {
            **rendering.html_context(report, page=page.number),
            "form": form,
            "hits": hits,
            "can_edit": is_draft and can(user, "transparency.edit_report", report),
            "can_review": in_review and can(user, "transparency.review_report", report),
            "is_drafter": report.drafted_by_id == user.pk,
            "can_publish": report.state == ReportState.APPROVED and can(user, "transparency.publish_report", report),
        }
        return render(self.request, "desk/transparency_report.html", context)


class ReportStepView(ReportMixin, View):
    """One step of the flow, by POST; a refusal is told on the report's page."""

    http_method_names = ["post"]
    permission = None

    def post(self, request, org_slug, report_id):
        report = self.get_report()
        if not can(request.user, self.permission, report):
            raise Http404("Not found")
        try:
            done = self.act(report)
        except PermissionDenied as denied:
            raise Http404("Not found") from denied
        except review.IdentifyingDetailsFound as found:
            messages.error(request, found.messages[0])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, done)
        return redirect("desk:transparency_report", org_slug=org_slug, report_id=report_id)


class SubmitReportView(ReportStepView):
    permission = "transparency.edit_report"

    def act(self, report):
        review.submit_for_review(report, by=self.request.user)
        return "Sent for review: a second member of the team reads it next."


class ReviewReportView(ReportStepView):
    permission = "transparency.review_report"

    def act(self, report):
        approve = self.request.POST.get("decision") == "approve"
        review.review_report(report, by=self.request.user, approve=approve)
        if approve:
            return "Approved: an organization admin publishes it."
        return "Sent back to the team as a draft."


class PublishReportView(ReportStepView):
    permission = "transparency.publish_report"

    def act(self, report):
        review.publish_report(report, by=self.request.user)
        return "Published: the report is on the organization's public page."


class TeamStatisticsView(OrganizationPermissionMixin, View):
    """The team's statistics, counted over the cases the viewing member may see."""

    organization_permission = "transparency.view_statistics"

    def get(self, request, org_slug):
        shown = team_statistics(request.user, self.organization, now=timezone.now())
        charts = {}
        if bar_chart_svg is not None:
            charts = {
                "months": bar_chart_svg("Cases received per month", shown.months, chart_id="chart-months"),
                "states": bar_chart_svg("Open cases by state", shown.open_by_state, chart_id="chart-states"),
            }
        context = {"organization": self.organization, "shown": shown, "charts": charts}
        return render(request, "desk/transparency_statistics.html", context)
