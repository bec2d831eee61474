from django.urls import path

from . import views

app_name = "public"

urlpatterns = [
    path("", views.home, name="home"),
    path("report/<slug:org_slug>/", views.report_form, name="report"),
    path("follow-up/", views.receipt_entry, name="receipt"),
    path("follow-up/case/", views.reporter_case, name="reporter_case"),
    path("follow-up/leave/", views.leave_case, name="leave_case"),
    path("follow-up/claim/<str:token>/", views.claim_receipt, name="claim_receipt"),
]
