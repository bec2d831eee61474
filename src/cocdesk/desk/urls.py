from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "desk"

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="desk/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.QueueView.as_view(), name="queue"),
    path("cases/<str:reference>/", views.CaseDetailView.as_view(), name="case"),
    path("cases/<str:reference>/messages/", views.MessageReporterView.as_view(), name="message_reporter"),
]
