import http.client

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as _CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.middleware.csrf import CsrfViewMiddleware as _DjangoCsrfViewMiddleware


class NoStoreMiddleware:
    """Case pages and receipts must never sit in a shared or browser cache."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith("/static/"):
            response["Cache-Control"] = "no-store"
        return response


class CsrfViewMiddleware(_DjangoCsrfViewMiddleware):
    """Django's CSRF protection, adjusted for ``Referrer-Policy: no-referrer``.

    Under that policy browsers send ``Origin: null`` on every form post, even to the same site, which Django
    rejects. A null origin is accepted only when the browser itself marks the request as same-origin with the
    ``Sec-Fetch-Site`` header, which pages cannot forge; the CSRF token is still checked as always.
    """

    def _origin_verified(self, request):
        if request.META.get("HTTP_ORIGIN") == "null" and request.META.get("HTTP_SEC_FETCH_SITE") == "same-origin":
            return True
        return super()._origin_verified(request)


class CSPMiddleware(_CSPMiddleware):
    """django-csp's middleware, with the policy of a response that needs nothing of its own built once per process.

    django-csp builds the header from the settings on every response. A response gets the same header every time
    unless its request used a nonce or its view changed the policy (``csp_update`` and the like): only those are
    built as django-csp builds them. CoC Desk's policy has no nonce, so every page takes the standing header."""

    def process_response(self, request, response):
        if getattr(request, "_csp_nonce", None) is not None or any(
            getattr(response, name, None) is not None for name in _PER_RESPONSE_POLICY
        ):
            return super().process_response(request, response)
        if settings.DEBUG and response.status_code in (http.client.INTERNAL_SERVER_ERROR, http.client.NOT_FOUND):
            return response
        for header, exempt, (policy, excluded_prefixes) in zip(
            (HEADER, HEADER_REPORT_ONLY), ("_csp_exempt", "_csp_exempt_ro"), _standing_policies(), strict=True
        ):
            if (
                policy
                and header not in response
                and getattr(response, exempt, False) is False
                and not request.path_info.startswith(excluded_prefixes)
            ):
                response[header] = policy
        # As django-csp: a nonce asked for once the header is written could never be in it.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response


_PER_RESPONSE_POLICY = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
)
_standing = {}


def _standing_policies():
    """(header, excluded URL prefixes) of the enforced policy, then of the report-only one, from the settings."""
    policies = _standing.get("policies")
    if policies is None:
        policies = _standing["policies"] = tuple(
            (
                build_policy(report_only=report_only),
                tuple((getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES", None) or ()),
            )
            for report_only, setting in (
                (False, "CONTENT_SECURITY_POLICY"),
                (True, "CONTENT_SECURITY_POLICY_REPORT_ONLY"),
            )
        )
    return policies


@receiver(setting_changed)
def _forget_standing_policies(*, setting, **kwargs):
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _standing.clear()
