from django.http import Http404
from django.urls import include, path
from django.views.defaults import page_not_found

urlpatterns = [
    path("desk/", include("cocdesk.desk.urls")),
    path("", include("cocdesk.public.urls")),
]


def denied_means_not_found(request, exception=None):
    """A refused request answers exactly like a missing page: the existence of a case is itself confidential."""
    return page_not_found(request, Http404("Not found"))


handler403 = denied_means_not_found
