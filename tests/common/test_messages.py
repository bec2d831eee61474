"""Messages are stored as Django stores them (a cookie, then the session), but a request that neither reads nor
adds one makes no storage at all."""

import pytest
from django.conf import settings
from django.contrib import messages
from django.contrib.messages.storage import default_storage
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpResponse
from django.test import RequestFactory

from cocdesk.common.messages import LazyFallbackStorage


def request_with_storage(cookies=None):
    request = RequestFactory().get("/")
    request.COOKIES.update(cookies or {})
    request.session = SessionBase()
    request._messages = default_storage(request)
    return request


def test_the_project_uses_the_lazy_storage():
    assert isinstance(request_with_storage()._messages, LazyFallbackStorage)


def test_a_request_that_never_touches_messages_makes_no_storage_and_writes_nothing():
    request = request_with_storage()
    response = HttpResponse()
    request._messages.update(response)
    assert "storages" not in vars(request._messages)
    assert "messages" not in response.cookies


@pytest.mark.parametrize("size", [10, 5000], ids=["in the cookie", "too large for the cookie: in the session"])
def test_a_message_added_in_one_request_is_read_in_the_next(size):
    first = request_with_storage()
    text = "Saved. " + "x" * size
    messages.success(first, text)
    response = HttpResponse()
    first._messages.update(response)
    cookies = {name: morsel.value for name, morsel in response.cookies.items()}
    second = request_with_storage(cookies)
    second.session = first.session
    assert [(message.level, message.message) for message in messages.get_messages(second)] == [(messages.SUCCESS, text)]


def test_whether_a_request_has_messages_is_known_without_storage_when_it_sent_no_cookie():
    from cocdesk.common.messages import has_messages

    fresh = request_with_storage()
    assert not has_messages(fresh)
    assert "storages" not in vars(fresh._messages)
    messages.info(fresh, "Added by this request.")
    assert has_messages(fresh)

    earlier = request_with_storage()
    messages.success(earlier, "Shown on the next page.")
    response = HttpResponse()
    earlier._messages.update(response)
    returning = request_with_storage({name: morsel.value for name, morsel in response.cookies.items()})
    assert has_messages(returning)
    with_session_only = request_with_storage({settings.SESSION_COOKIE_NAME: "some-key"})
    assert not has_messages(with_session_only) and "storages" in vars(with_session_only._messages)
