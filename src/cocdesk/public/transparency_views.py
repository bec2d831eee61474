"""The organization's published transparency reports: a list, a page per report, and its Markdown and PDF. Only a
published report is reached; a draft, a report under review or another organization's report answers 404."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from cocdesk.orgs.models import Organization
from cocdesk.transparency import rendering
from cocdesk.transparency.enums import ReportState
from cocdesk.transparency.models import TransparencyReport


def _published(org_slug):
    organization = get_object_or_404(Organization, slug=org_slug)
    reports = TransparencyReport.objects.filter(organization=organization, state=ReportState.PUBLISHED)
    return organization, reports.select_related("organization")


def _published_report(org_slug, report_id):
    _organization, reports = _published(org_slug)
    return get_object_or_404(reports, pk=report_id)


def transparency_list(request, org_slug):
    organization, reports = _published(org_slug)
    reports = reports.order_by("-published_at", "-pk")
    return render(request, "public/transparency_list.html", {"organization": organization, "reports": reports})


def transparency_report(request, org_slug, report_id):
    report = _published_report(org_slug, report_id)
    page = request.GET.get(rendering.LINES_PAGE_PARAMETER, 1)
    return render(request, "public/transparency_report.html", rendering.html_context(report, page=page))


def download_response(report, kind):
    content, content_type, filename = rendering.export(report, kind)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def transparency_markdown(request, org_slug, report_id):
    return download_response(_published_report(org_slug, report_id), "markdown")


def transparency_pdf(request, org_slug, report_id):
    return download_response(_published_report(org_slug, report_id), "pdf")
