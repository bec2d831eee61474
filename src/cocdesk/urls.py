from django.urls import include, path

urlpatterns = [
    path("desk/", include("cocdesk.desk.urls")),
    path("", include("cocdesk.public.urls")),
]
