"""Security headers on every page, and pages that work under a strict CSP: no inline script or style."""

import re

import pytest

from tests.factories import member, report_case
from tests.pages import inline_code, input_value
from tests.team import log_in


def csp_directives(response):
    header = response.headers.get("Content-Security-Policy")
    assert header, "no Content-Security-Policy header"
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return header, directives


def assert_security_headers(response):
    header, directives = csp_directives(response)
    assert "'unsafe-inline'" not in header
    assert "'unsafe-eval'" not in header
    assert directives["default-src"] == ["'none'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.fixture
def reported(organization, space):
    member(organization, "responder")
    case, receipt = report_case(organization, description="Someone <script>alert(1)</script> at the social.")
    return case, receipt


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/report/{org}/",
        "/follow-up/",
        "/follow-up/case/",
        "/desk/",
        "/desk/login/",
        "/desk/cases/ZZZZ-ZZZZ-ZZZZ/",
        "/no-such-page/",
    ],
)
def test_public_responses_carry_the_security_headers(client, organization, url):
    response = client.get(url.format(org=organization.slug))
    assert response.status_code in {200, 302, 404}
    assert_security_headers(response)
    assert response.headers["Cache-Control"] == "no-store"


def test_form_error_and_post_responses_carry_the_security_headers(client, organization):
    response = client.post(f"/report/{organization.slug}/", {"description": "", "submission_token": "t"})
    assert response.status_code == 200
    assert_security_headers(response)
    response = client.post("/follow-up/", {"receipt": "not-a-receipt"})
    assert_security_headers(response)


def test_desk_pages_carry_the_security_headers(client, organization, reported):
    case, _receipt = reported
    log_in(client, member(organization, "lead").user)
    for url in ("/desk/", f"/desk/cases/{case.reference}/"):
        response = client.get(url)
        assert response.status_code == 200
        assert_security_headers(response)
        assert response.headers["Cache-Control"] == "no-store"


def _report_form(client, organization, reported):
    return client.get(f"/report/{organization.slug}/")


def _report_form_with_errors(client, organization, reported):
    return client.post(f"/report/{organization.slug}/", {"description": "", "submission_token": "tok"})


def _received_page(client, organization, reported):
    form = client.get(f"/report/{organization.slug}/")
    return client.post(
        f"/report/{organization.slug}/",
        {
            "description": "It happened at the <b>bar</b>.",
            "ongoing": "yes",
            "submission_token": input_value(form.content, "submission_token"),
        },
    )


def _receipt_entry(client, organization, reported):
    return client.get("/follow-up/")


def _reporter_case(client, organization, reported):
    _case, receipt = reported
    assert client.post("/follow-up/", {"receipt": receipt}).status_code == 302
    return client.get("/follow-up/case/")


def _login_page(client, organization, reported):
    return client.get("/desk/login/")


def _login_error(client, organization, reported):
    return client.post("/desk/login/", {"username": "nobody", "password": "wrong-password"})


def _queue(client, organization, reported):
    log_in(client, member(organization, "lead").user)
    return client.get("/desk/")


def _case_page(client, organization, reported):
    case, _receipt = reported
    log_in(client, member(organization, "lead").user)
    return client.get(f"/desk/cases/{case.reference}/")


@pytest.mark.parametrize(
    "render",
    [
        _report_form,
        _report_form_with_errors,
        _received_page,
        _receipt_entry,
        _reporter_case,
        _login_page,
        _login_error,
        _queue,
        _case_page,
    ],
    ids=lambda f: f.__name__.strip("_"),
)
def test_pages_have_no_inline_script_or_style(client, organization, reported, render):
    response = render(client, organization, reported)
    assert response.status_code == 200
    html = response.content.decode()
    assert inline_code(html) == []
    # The one script is the site's own static file (progressive enhancement), never inline code.
    scripts = re.findall(r"<script\b[^>]*>", html, re.IGNORECASE)
    assert all(re.fullmatch(r'<script src="/static/cocdesk/site\.js" defer>', tag) for tag in scripts), scripts
    assert "<style" not in html.lower()
    assert " style=" not in html.lower()
    assert_security_headers(response)


def test_hsts_is_sent_over_https_only(client, db):
    assert "Strict-Transport-Security" not in client.get("/")
    secure = client.get("/", secure=True)
    assert secure["Strict-Transport-Security"].startswith("max-age=31536000")
