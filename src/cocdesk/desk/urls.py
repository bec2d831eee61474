from django.contrib.auth import views as auth_views
from django.urls import path

from . import audit_views, recusal_views, views
from . import auth_views as team_auth

app_name = "desk"

urlpatterns = [
    path("login/", team_auth.login_view, name="login"),
    path("second-factor/", team_auth.second_factor_view, name="second_factor"),
    path("enrol/", team_auth.enrol_view, name="enrol"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.QueueView.as_view(), name="queue"),
    path("cases/<str:reference>/", views.CaseDetailView.as_view(), name="case"),
    path("cases/<str:reference>/messages/", views.MessageReporterView.as_view(), name="message_reporter"),
    path("cases/<str:reference>/recuse-me/", recusal_views.DeclareRecusalView.as_view(), name="declare_recusal"),
    path("cases/<str:reference>/recusals/", recusal_views.RecuseMemberView.as_view(), name="recuse_member"),
    path(
        "cases/<str:reference>/recusals/<int:recusal_id>/reinstate/",
        recusal_views.ReinstateView.as_view(),
        name="reinstate",
    ),
    path("orgs/<slug:org_slug>/audit/", audit_views.OrganizationAuditView.as_view(), name="org_audit"),
]
