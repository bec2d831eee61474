"""The Content-Security-Policy header a page gets is django-csp's, built once per process when the response needs
nothing of its own, and built for the response when its view changed the policy or used a nonce."""

import pytest
from csp.constants import HEADER, HEADER_REPORT_ONLY, NONCE
from csp.utils import build_policy
from django.http import HttpResponse
from django.test import RequestFactory

from cocdesk.common.middleware import CSPMiddleware


def answer(response=None, *, path="/report/some-org/", use_nonce=False):
    def view(request):
        if use_nonce:
            str(request.csp_nonce)
        return response or HttpResponse("page")

    return CSPMiddleware(view)(RequestFactory().get(path))


def test_a_page_gets_the_configured_policy_and_no_nonce():
    response = answer()
    assert response[HEADER] == build_policy()
    assert "default-src 'none'" in response[HEADER] and "nonce" not in response[HEADER]
    assert HEADER_REPORT_ONLY not in response
    assert answer()[HEADER] == response[HEADER]


def test_a_change_of_the_settings_shows_at_once(settings):
    assert "example.org" not in answer()[HEADER]
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'self'"], "img-src": ["example.org"]}}
    assert answer()[HEADER] == build_policy() and "img-src example.org" in build_policy()
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    assert answer()[HEADER_REPORT_ONLY] == "default-src 'none'"
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {}
    settings.CONTENT_SECURITY_POLICY = {"EXCLUDE_URL_PREFIXES": ["/report/"], "DIRECTIVES": {"default-src": ["'self'"]}}
    assert HEADER not in answer()
    assert answer(path="/desk/")[HEADER] == "default-src 'self'"


def test_a_view_s_own_changes_and_a_nonce_are_built_for_its_response(settings):
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"], "script-src": ["'self'", NONCE]}}
    updated = HttpResponse("page")
    updated._csp_update = {"img-src": ["example.net"]}
    assert "img-src example.net" in answer(updated)[HEADER]
    with_nonce = answer(use_nonce=True)[HEADER]
    assert "'nonce-" in with_nonce
    assert "'nonce-" not in answer()[HEADER]
    exempt = HttpResponse("page")
    exempt._csp_exempt = True
    assert HEADER not in answer(exempt)
    preset = HttpResponse("page", headers={HEADER: "default-src 'self'"})
    assert answer(preset)[HEADER] == "default-src 'self'"


def test_a_nonce_asked_for_after_the_header_is_written_is_refused():
    from csp.exceptions import CSPNonceError

    request = RequestFactory().get("/")
    CSPMiddleware(lambda request: HttpResponse("page"))(request)
    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)
