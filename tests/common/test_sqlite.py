"""The SQLite backend converts a statement's text to SQLite's parameter style once, and exactly as Django does."""

import pytest
from django.db import connection
from django.db.backends.sqlite3.base import SQLiteCursorWrapper as DjangoCursor

from cocdesk.common.sqlite import base

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's own backend")


@pytest.mark.parametrize(
    "query",
    [
        "SELECT %s",
        "SELECT %s, %s FROM t WHERE a = %s",
        "SELECT '100%%' || %s",
        "SELECT * FROM t WHERE name LIKE %s ESCAPE '\\'",
        "SELECT 1",
    ],
)
def test_the_text_is_converted_as_django_converts_it(query):
    theirs = DjangoCursor.convert_query(None, query)
    assert base.SQLiteCursorWrapper.convert_query(None, query) == theirs


def test_a_text_is_converted_once_and_then_reused():
    query = "SELECT %s AS once_only_marker, '5%%'"
    before = base._qmark_style.cache_info()
    first = base.SQLiteCursorWrapper.convert_query(None, query)
    again = base.SQLiteCursorWrapper.convert_query(None, query)
    after = base._qmark_style.cache_info()
    assert first is again == "SELECT ? AS once_only_marker, '5%'"
    assert after.misses == before.misses + 1 and after.hits == before.hits + 1


@pytest.mark.django_db
def test_queries_run_through_the_backend_with_positional_and_named_parameters():
    assert connection.settings_dict["ENGINE"] == "cocdesk.common.sqlite"
    with connection.cursor() as cursor:
        assert isinstance(cursor.cursor, base.SQLiteCursorWrapper)
        cursor.execute("SELECT %s || '%%', %s", ["50", 2])
        assert cursor.fetchone() == ("50%", 2)
        cursor.execute("SELECT %(word)s || %(word)s", {"word": "ab"})
        assert cursor.fetchone() == ("abab",)
