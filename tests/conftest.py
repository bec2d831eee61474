import os
import re
import tempfile

import pytest

from cocdesk.settings import POSTGRESQL_ENGINE
from tests.factories import OrganizationFactory, SpaceFactory

BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CHROMIUM = os.environ.get("COCDESK_CHROMIUM", "/usr/bin/chromium")


# Fixtures through which a test reaches the database (pytest-django's, and what builds on them).
DATABASE_FIXTURES = {
    "db",
    "transactional_db",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
    "live_server",
}


def pytest_collection_modifyitems(config, items):
    """On PostgreSQL, a test that never reaches the database is left out: it ran, identically, in the SQLite pass
    (``make test`` runs both)."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] != POSTGRESQL_ENGINE:
        return
    kept, left_out = [], []
    for item in items:
        reaches_database = item.get_closest_marker("django_db") or DATABASE_FIXTURES & set(item.fixturenames)
        (kept if reaches_database else left_out).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


@pytest.fixture
def organization(db):
    return OrganizationFactory()


@pytest.fixture
def space(organization):
    return SpaceFactory(organization=organization, name="Main conference")


class RoundTrips:
    """The round trips to PostgreSQL of a ``with`` block: the times the conversation turns from the worker's messages
    to the server's, as libpq's trace of Django's connection records them. ``count`` is set when the block ends."""

    MESSAGE = re.compile(r"^([FB])\t\d+\t", re.MULTILINE)

    def __init__(self):
        self.count = None

    def __enter__(self):
        import psycopg
        from django.db import connection

        connection.ensure_connection()
        self._pgconn = connection.connection.pgconn
        self._trace = tempfile.TemporaryFile()  # noqa: SIM115 - closed in __exit__
        self._pgconn.trace(self._trace.fileno())
        self._pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
        return self

    def __exit__(self, *exc_info):
        self._pgconn.untrace()
        self._trace.seek(0)
        senders = self.MESSAGE.findall(self._trace.read().decode(errors="replace"))
        self._trace.close()
        self.count = sum(1 for one, other in zip(senders, senders[1:], strict=False) if (one, other) == ("F", "B"))


@pytest.fixture
def round_trips(db):
    """On PostgreSQL, ``RoundTrips`` (``with round_trips() as trips: ...; trips.count``); elsewhere the test is
    skipped: SQLite answers in the worker's own process."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("round trips to a server are PostgreSQL's")
    return RoundTrips


@pytest.fixture(autouse=True)
def _fresh_throttles():
    from django.core.cache import cache

    from cocdesk.common.worker_pages import forget_every_page

    cache.clear()
    forget_every_page()
    yield
    cache.clear()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright; never a downloaded browser."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make system-deps` (apt-get install chromium).")
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the test itself are safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
