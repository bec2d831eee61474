"""Fixtures of the tests of common: what PostgreSQL holds prepared for this session."""

import pytest


@pytest.fixture
def postgresql(db):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("prepared server-side statements are PostgreSQL's")


@pytest.fixture
def prepared_statements():
    """A function giving the texts of the statements this database session holds prepared."""
    from django.db import connection

    def texts():
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            return [statement for (statement,) in cursor.fetchall()]

    return texts
