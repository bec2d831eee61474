"""Throttle counts live in the database, so every worker process sees the same count: counting, the window, keys
that never hold an address, concurrent writers, and the receipt throttle across two gunicorn workers."""

import http.client
import re
import threading
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import RequestFactory
from django.utils import timezone

from cocdesk.cases.domain.references import new_receipt
from cocdesk.common.models import ThrottleCount
from cocdesk.common.throttle import Throttle, receipt_throttle
from cocdesk.public.views import RECEIPT_NOT_FOUND, RECEIPT_THROTTLED
from tests.common.processes import Gunicorn
from tests.common.worker_pid_wsgi import WORKER_PID_HEADER
from tests.factories import OrganizationFactory, report_case

LIMIT, WINDOW = 3, 60


def from_address(address):
    return RequestFactory().post("/follow-up/", REMOTE_ADDR=address)


@pytest.fixture
def throttle(db):
    return Throttle("test", LIMIT, WINDOW)


# --- counting ----------------------------------------------------------------------------------------------------


def test_a_key_is_blocked_once_it_reaches_the_limit(throttle):
    for _ in range(LIMIT - 1):
        throttle.note_failure_key("alice")
    assert not throttle.is_blocked_key("alice")
    throttle.note_failure_key("alice")
    assert throttle.is_blocked_key("alice")
    assert not throttle.is_blocked_key("bob")
    assert ThrottleCount.objects.get().count == LIMIT


def test_an_address_is_counted_apart_from_another(throttle):
    for _ in range(LIMIT):
        throttle.note_failure(from_address("192.0.2.1"))
    assert throttle.is_blocked(from_address("192.0.2.1"))
    assert not throttle.is_blocked(from_address("192.0.2.2"))


def test_behind_the_proxy_each_client_address_it_names_is_counted_apart(throttle, settings):
    settings.COCDESK_CLIENT_ADDRESS_HEADER = "HTTP_X_REAL_IP"
    proxy = "127.0.0.1"
    guesser = RequestFactory().post("/follow-up/", REMOTE_ADDR=proxy, HTTP_X_REAL_IP="203.0.113.9")
    reporter = RequestFactory().post("/follow-up/", REMOTE_ADDR=proxy, HTTP_X_REAL_IP="198.51.100.4")
    for _ in range(LIMIT):
        throttle.note_failure(guesser)
    assert throttle.is_blocked(guesser)
    assert not throttle.is_blocked(reporter)


def test_scopes_count_apart(db):
    login, receipts = Throttle("login-address", 1, WINDOW), receipt_throttle()
    login.note_failure(from_address("192.0.2.1"))
    assert login.is_blocked(from_address("192.0.2.1"))
    assert not receipts.is_blocked(from_address("192.0.2.1"))


def test_reset_forgets_the_key(throttle):
    for _ in range(LIMIT):
        throttle.note_failure_key("alice")
    throttle.reset_key("alice")
    assert not throttle.is_blocked_key("alice")
    assert not ThrottleCount.objects.exists()


def test_the_count_is_shared_by_every_throttle_object_of_the_scope(db):
    """What one request counted, the next one (another worker, another Throttle object) reads."""
    for _ in range(settings.COCDESK_RECEIPT_ATTEMPTS):
        receipt_throttle().note_failure(from_address("192.0.2.1"))
    assert receipt_throttle().is_blocked(from_address("192.0.2.1"))


def test_keys_are_keyed_hashes_never_the_address_or_name(throttle):
    throttle.note_failure(from_address("192.0.2.77"))
    throttle.note_failure_key("alice@example.org")
    keys = set(ThrottleCount.objects.values_list("key", flat=True))
    by_address = {key for key in keys if re.fullmatch(r"throttle:test:[0-9a-f]{32}", key)}
    by_name = {key for key in keys if re.fullmatch(r"throttle:test:key:[0-9a-f]{32}", key)}
    assert len(by_address) == len(by_name) == 1 and keys == by_address | by_name
    for key in keys:
        assert "192.0.2.77" not in key and "alice" not in key


def test_a_failure_inside_a_transaction_is_counted_and_the_transaction_goes_on(throttle):
    with transaction.atomic():
        throttle.note_failure_key("alice")
        throttle.note_failure_key("alice")
        assert ThrottleCount.objects.get().count == 2


# --- the window --------------------------------------------------------------------------------------------------


def end_the_window():
    ThrottleCount.objects.update(window_ends_at=timezone.now() - timedelta(seconds=1))


def test_the_window_is_fixed_from_the_first_failure(throttle):
    throttle.note_failure_key("alice")
    first_end = ThrottleCount.objects.get().window_ends_at
    assert timedelta(seconds=WINDOW - 5) < first_end - timezone.now() <= timedelta(seconds=WINDOW)
    throttle.note_failure_key("alice")
    assert ThrottleCount.objects.get().window_ends_at == first_end


def test_once_the_window_ends_the_key_is_free_and_counting_starts_over(throttle):
    for _ in range(LIMIT):
        throttle.note_failure_key("alice")
    end_the_window()
    assert not throttle.is_blocked_key("alice")

    throttle.note_failure_key("alice")
    row = ThrottleCount.objects.get()
    assert row.count == 1
    assert row.window_ends_at > timezone.now() + timedelta(seconds=WINDOW - 5)
    assert not throttle.is_blocked_key("alice")
    for _ in range(LIMIT - 1):
        throttle.note_failure_key("alice")
    assert throttle.is_blocked_key("alice")


# --- concurrent writers ------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_failures_are_all_counted():
    """Threads with their own connections race to create, then to increment, the same row."""
    writers, failures_each = 6, 5
    throttle = Throttle("test", 1000, WINDOW)
    start = threading.Barrier(writers, timeout=30)
    errors = []

    def fail_repeatedly():
        try:
            start.wait()
            for _ in range(failures_each):
                throttle.note_failure_key("shared")
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=fail_repeatedly) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert ThrottleCount.objects.get().count == writers * failures_each


# --- two gunicorn workers ----------------------------------------------------------------------------------------


def get_request(port, path):
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode()


def post_request(port, path, fields, csrf_cookie):
    body = urlencode(fields).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
        f"Cookie: csrftoken={csrf_cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def read_response(sock):
    response = http.client.HTTPResponse(sock)
    response.begin()
    return response.status, response.headers, response.read().decode()


def exchange(server, request):
    """One request on a new connection: (status, headers, body)."""
    with server.connect() as sock:
        sock.sendall(request)
        return read_response(sock)


def on_both_workers(server, first_request, second_request):
    """Sends two requests so that two different workers must answer them.

    A sync worker serves one connection at a time. The first request is held back after its request line, so the
    worker that accepted it waits for the rest; the second request, on a new connection, can then only be served by
    the other worker. The first request is completed once the second is answered.
    """
    with server.connect() as held:
        request_line_end = first_request.index(b"\r\n") + 2
        held.sendall(first_request[:request_line_end])
        second = exchange(server, second_request)
        held.sendall(first_request[request_line_end:])
        first = read_response(held)
    return first, second


def worker_pids(*responses):
    return {headers[WORKER_PID_HEADER] for _status, headers, _body in responses}


@pytest.fixture
def gunicorn(transactional_db, tmp_path):
    server = Gunicorn(tmp_path / "gunicorn.log", app="tests.common.worker_pid_wsgi:application", workers=2)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def receipt(transactional_db):
    """A real report's receipt, committed, so the server processes find it."""
    _case, receipt = report_case(OrganizationFactory())
    return receipt


def test_the_receipt_throttle_holds_across_two_worker_processes(receipt, gunicorn):
    limit = settings.COCDESK_RECEIPT_ATTEMPTS
    assert limit == 5, "the server processes run with the default limit; this test follows it"
    status, headers, body = exchange(gunicorn, get_request(gunicorn.port, "/follow-up/"))
    assert status == 200, body
    csrf_cookie = re.search(r"csrftoken=([^;]+)", " ".join(headers.get_all("Set-Cookie"))).group(1)
    csrf_token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)

    def attempt(typed):
        fields = {"csrfmiddlewaretoken": csrf_token, "receipt": typed}
        return post_request(gunicorn.port, "/follow-up/", fields, csrf_cookie)

    # The servers read the test database: the right receipt opens the case, and counts no failure.
    status, headers, _body = exchange(gunicorn, attempt(receipt))
    assert (status, headers["Location"]) == (302, "/follow-up/case/")

    # Five wrong receipts, spread over both workers: per process, neither would have reached the limit.
    wrong = [*on_both_workers(gunicorn, attempt(new_receipt()), attempt(new_receipt()))]
    wrong += on_both_workers(gunicorn, attempt(new_receipt()), attempt(new_receipt()))
    wrong.append(exchange(gunicorn, attempt(new_receipt())))
    assert len(wrong) == limit
    for status, _headers, body in wrong:
        assert status == 200 and RECEIPT_NOT_FOUND in body
    assert len(worker_pids(*wrong)) == 2, gunicorn.log()
    assert ThrottleCount.objects.get().count == limit

    # Now the right receipt is refused with the throttle's message, whichever worker answers.
    refused = on_both_workers(gunicorn, attempt(receipt), attempt(receipt))
    assert len(worker_pids(*refused)) == 2
    for status, _headers, body in refused:
        assert status == 200
        assert RECEIPT_THROTTLED in body
    assert ThrottleCount.objects.get().count == limit  # a refused attempt is not looked up, so not counted
