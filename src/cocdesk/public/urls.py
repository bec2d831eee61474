from django.urls import path

from . import appeal_views, transparency_views, views

app_name = "public"

urlpatterns = [
    path("", views.home, name="home"),
    path("help/", views.help_page, name="help"),
    path("o/<slug:org_slug>/", views.organization_page, name="organization"),
    path("o/<slug:org_slug>/transparency/", transparency_views.transparency_list, name="transparency_list"),
    path(
        "o/<slug:org_slug>/transparency/<int:report_id>/",
        transparency_views.transparency_report,
        name="transparency_report",
    ),
    path(
        "o/<slug:org_slug>/transparency/<int:report_id>/report.md",
        transparency_views.transparency_markdown,
        name="transparency_markdown",
    ),
    path(
        "o/<slug:org_slug>/transparency/<int:report_id>/report.pdf",
        transparency_views.transparency_pdf,
        name="transparency_pdf",
    ),
    path("report/<slug:org_slug>/", views.report_form, name="report"),
    path("follow-up/", views.receipt_entry, name="receipt"),
    path("follow-up/case/", views.reporter_case, name="reporter_case"),
    path("follow-up/leave/", views.leave_case, name="leave_case"),
    path("follow-up/claim/<str:token>/", views.claim_receipt, name="claim_receipt"),
    path("appeal/<str:token>/", appeal_views.appeal_page, name="appeal"),
]
