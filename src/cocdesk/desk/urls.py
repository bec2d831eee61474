from django.contrib.auth import views as auth_views
from django.urls import path

from . import (
    admin_views,
    attachment_views,
    audit_views,
    case_views,
    queue_views,
    recusal_views,
    set_aside_views,
    staff_views,
    views,
)
from . import auth_views as team_auth

app_name = "desk"

urlpatterns = [
    path("login/", team_auth.login_view, name="login"),
    path("second-factor/", team_auth.second_factor_view, name="second_factor"),
    path("enrol/", team_auth.enrol_view, name="enrol"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", team_auth.password_reset_request_view, name="password_reset"),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="desk/password_reset_confirm.html", success_url="/desk/password-reset/complete/"
        ),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(template_name="desk/password_reset_complete.html"),
        name="password_reset_complete",
    ),
    path("", queue_views.QueueView.as_view(), name="queue"),
    path("cases/<str:reference>/", views.CaseDetailView.as_view(), name="case"),
    path("cases/<str:reference>/messages/", case_views.MessageReporterView.as_view(), name="message_reporter"),
    path("cases/<str:reference>/outcome/", case_views.OutcomeView.as_view(), name="outcome"),
    path("cases/<str:reference>/triage/", case_views.TriageView.as_view(), name="triage"),
    path("cases/<str:reference>/notes/", case_views.NoteView.as_view(), name="add_note"),
    path("cases/<str:reference>/assign/", case_views.AssignView.as_view(), name="assign"),
    path("cases/<str:reference>/assign-me/", case_views.AssignToMeView.as_view(), name="assign_to_me"),
    path("cases/<str:reference>/merge/", case_views.MergeView.as_view(), name="merge"),
    path("cases/<str:reference>/immediate-actions/", case_views.ImmediateActionView.as_view(), name="immediate_action"),
    path(
        "cases/<str:reference>/immediate-actions/<int:action_id>/review/",
        case_views.ReviewActionView.as_view(),
        name="review_action",
    ),
    path(
        "cases/<str:reference>/attachments/<int:attachment_id>/",
        attachment_views.AttachmentDownloadView.as_view(),
        name="attachment",
    ),
    path("cases/<str:reference>/state/<str:transition>/", case_views.TransitionView.as_view(), name="transition"),
    path("cases/<str:reference>/recuse-me/", recusal_views.DeclareRecusalView.as_view(), name="declare_recusal"),
    path("cases/<str:reference>/recusals/", recusal_views.RecuseMemberView.as_view(), name="recuse_member"),
    path(
        "cases/<str:reference>/recusals/<int:recusal_id>/reinstate/",
        recusal_views.ReinstateView.as_view(),
        name="reinstate",
    ),
    path("orgs/<slug:org_slug>/settings/", admin_views.SettingsView.as_view(), name="org_settings"),
    path("orgs/<slug:org_slug>/team/", admin_views.TeamView.as_view(), name="org_team"),
    path("orgs/<slug:org_slug>/templates/", admin_views.TemplatesView.as_view(), name="org_templates"),
    path(
        "orgs/<slug:org_slug>/conflict-contacts/",
        admin_views.ConflictContactsView.as_view(),
        name="org_conflict_contacts",
    ),
    path(
        "orgs/<slug:org_slug>/team/<int:membership_id>/",
        admin_views.MemberActionView.as_view(),
        name="org_member",
    ),
    path("orgs/<slug:org_slug>/file-report/", staff_views.FileReportView.as_view(), name="file_report"),
    path("filed/", staff_views.FiledReportsView.as_view(), name="filed_reports"),
    path("spaces/<int:space_id>/debrief/", staff_views.DebriefView.as_view(), name="debrief"),
    path("orgs/<slug:org_slug>/set-aside/", set_aside_views.SetAsideListView.as_view(), name="set_aside"),
    path(
        "orgs/<slug:org_slug>/set-aside/<int:mail_id>/",
        set_aside_views.SetAsideDownloadView.as_view(),
        name="set_aside_download",
    ),
    path(
        "orgs/<slug:org_slug>/set-aside/<int:mail_id>/handled/",
        set_aside_views.SetAsideHandledView.as_view(),
        name="set_aside_handled",
    ),
    path(
        "orgs/<slug:org_slug>/set-aside/<int:mail_id>/preview/",
        set_aside_views.SetAsidePreviewView.as_view(),
        name="set_aside_preview",
    ),
    path(
        "orgs/<slug:org_slug>/set-aside/<int:mail_id>/case/",
        set_aside_views.SetAsideOpenCaseView.as_view(),
        name="set_aside_open_case",
    ),
    path("orgs/<slug:org_slug>/audit/", audit_views.OrganizationAuditView.as_view(), name="org_audit"),
]
