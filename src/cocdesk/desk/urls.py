from django.contrib.auth import views as auth_views
from django.urls import path

from . import (
    admin_views,
    appeal_views,
    attachment_views,
    audit_views,
    case_views,
    decision_views,
    notice_views,
    people_views,
    public_page_views,
    queue_views,
    recusal_views,
    registry_views,
    restriction_views,
    retention_views,
    set_aside_views,
    space_views,
    staff_views,
    statement_views,
    transparency_export_views,
    transparency_views,
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
    path("cases/<str:reference>/decision/", decision_views.DecisionView.as_view(), name="decision"),
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
    path(
        "cases/<str:reference>/notices/new/<int:person_id>/",
        notice_views.DraftNoticeView.as_view(),
        name="draft_notice",
    ),
    path("cases/<str:reference>/notices/<int:notice_id>/", notice_views.NoticeDetailView.as_view(), name="notice"),
    path(
        "cases/<str:reference>/notices/<int:notice_id>/approve/",
        notice_views.ApproveNoticeView.as_view(),
        name="approve_notice",
    ),
    path(
        "cases/<str:reference>/notices/<int:notice_id>/deliver/",
        notice_views.DeliverNoticeView.as_view(),
        name="deliver_notice",
    ),
    path("cases/<str:reference>/people/<int:party_id>/link/", people_views.LinkPartyView.as_view(), name="link_party"),
    path(
        "cases/<str:reference>/people/<int:party_id>/split/", people_views.SplitPartyView.as_view(), name="split_party"
    ),
    path("orgs/<slug:org_slug>/people/", people_views.PeopleView.as_view(), name="people"),
    path("orgs/<slug:org_slug>/people/<str:code>/", people_views.PersonView.as_view(), name="person"),
    path("appeals/<int:appeal_id>/", appeal_views.AppealReviewView.as_view(), name="appeal"),
    path("cases/<str:reference>/retention/hold/", retention_views.HoldView.as_view(), name="hold_retention"),
    path(
        "cases/<str:reference>/retention/release/",
        retention_views.ReleaseHoldView.as_view(),
        name="release_retention_hold",
    ),
    path("cases/<str:reference>/statements/", statement_views.DraftStatementView.as_view(), name="draft_statement"),
    path(
        "cases/<str:reference>/statements/<int:statement_id>/withdraw/",
        statement_views.WithdrawCaseStatementView.as_view(),
        name="withdraw_case_statement",
    ),
    path("orgs/<slug:org_slug>/statements/", statement_views.StatementsView.as_view(), name="org_statements"),
    path(
        "orgs/<slug:org_slug>/statements/<int:statement_id>/publish/",
        statement_views.PublishStatementView.as_view(),
        name="org_statement_publish",
    ),
    path(
        "orgs/<slug:org_slug>/statements/<int:statement_id>/withdraw/",
        statement_views.WithdrawStatementView.as_view(),
        name="org_statement_withdraw",
    ),
    path("orgs/<slug:org_slug>/settings/", admin_views.SettingsView.as_view(), name="org_settings"),
    path("orgs/<slug:org_slug>/team/", admin_views.TeamView.as_view(), name="org_team"),
    path("orgs/<slug:org_slug>/templates/", admin_views.TemplatesView.as_view(), name="org_templates"),
    path("orgs/<slug:org_slug>/spaces/", space_views.SpacesView.as_view(), name="org_spaces"),
    path("orgs/<slug:org_slug>/spaces/<int:space_id>/", space_views.EditSpaceView.as_view(), name="org_space"),
    path(
        "orgs/<slug:org_slug>/spaces/<int:space_id>/archive/",
        space_views.ArchiveSpaceView.as_view(),
        name="org_space_archive",
    ),
    path("orgs/<slug:org_slug>/public-page/", public_page_views.PublicPageView.as_view(), name="org_public_page"),
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
    path(
        "orgs/<slug:org_slug>/transparency/",
        transparency_views.ReportListView.as_view(),
        name="transparency_reports",
    ),
    path(
        "orgs/<slug:org_slug>/transparency/new/",
        transparency_views.NewReportView.as_view(),
        name="transparency_new",
    ),
    path(
        "orgs/<slug:org_slug>/transparency/<int:report_id>/",
        transparency_views.ReportView.as_view(),
        name="transparency_report",
    ),
    path(
        "orgs/<slug:org_slug>/transparency/<int:report_id>/submit/",
        transparency_views.SubmitReportView.as_view(),
        name="transparency_submit",
    ),
    path(
        "orgs/<slug:org_slug>/transparency/<int:report_id>/review/",
        transparency_views.ReviewReportView.as_view(),
        name="transparency_review",
    ),
    path(
        "orgs/<slug:org_slug>/transparency/<int:report_id>/publish/",
        transparency_views.PublishReportView.as_view(),
        name="transparency_publish",
    ),
    path("orgs/<slug:org_slug>/statistics/", transparency_views.TeamStatisticsView.as_view(), name="team_statistics"),
    path(
        "orgs/<slug:org_slug>/transparency/<int:report_id>/export.md",
        transparency_export_views.ReportDownloadView.as_view(kind="markdown"),
        name="transparency_markdown",
    ),
    path(
        "orgs/<slug:org_slug>/transparency/<int:report_id>/export.pdf",
        transparency_export_views.ReportDownloadView.as_view(kind="pdf"),
        name="transparency_pdf",
    ),
    path("orgs/<slug:org_slug>/restrictions/", restriction_views.RestrictionCheckView.as_view(), name="restrictions"),
    path("orgs/<slug:org_slug>/warnings/new/", restriction_views.VerbalWarningView.as_view(), name="new_warning"),
    path(
        "orgs/<slug:org_slug>/warnings/recorded/",
        restriction_views.WarningRecordedView.as_view(),
        name="warning_recorded",
    ),
    path("orgs/<slug:org_slug>/sanctions/", registry_views.RegistryView.as_view(), name="sanctions"),
    path(
        "orgs/<slug:org_slug>/sanctions/<int:sanction_id>/end/",
        registry_views.EndSanctionView.as_view(),
        name="end_sanction",
    ),
]
