from django.conf import settings
from django.http import Http404
from django.shortcuts import render
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


def csrf_failure(request, reason=""):
    """A refused form, in the product's own words and layout (never Django's bare 403 page)."""
    return render(request, "403_csrf.html", status=403)


def bad_request(request, exception=None):
    """A request the server will not read (too large, too many fields): the limits in words."""
    context = {
        "limit_mb": settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024),
        "limit_fields": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS,
    }
    return render(request, "400.html", context, status=400)


handler400 = bad_request
