"""Team sessions end after ``session_idle_seconds`` without a request, renewed by activity without a database
write on every page.

Renewing on every request (Django's ``SESSION_SAVE_EVERY_REQUEST``) costs a transaction per page view. Here a
session is written again only once its stored expiry has fallen more than ``RENEWAL_STEP`` behind a full
allowance, so a busy member's session is rewritten at most once a minute and an idle one still ends on time (at
most ``RENEWAL_STEP`` early).
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import router
from django.utils import timezone

from .prepared import PreparedQuery

RENEWAL_STEP = timedelta(seconds=60)


class SessionStore(DatabaseSessionStore):
    """The database session store, remembering the expiry the row had when it was read."""

    stored_expiry = None

    def _get_session_from_db(self):
        """Django's read (an unexpired row of this key, or None and no key), from a prepared statement."""
        model = self.get_model_class()
        using = router.db_for_read(model)
        rows = _session_by_key.rows(self.session_key, using=using)
        row = model.from_db(using, _SESSION_FIELDS, rows[0]) if rows else None
        if row is None or row.expire_date <= timezone.now():
            row, self._session_key = None, None
        self.stored_expiry = row.expire_date if row is not None else None
        return row

    def is_due_for_renewal(self):
        if self.stored_expiry is None:
            return False
        full_allowance = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
        return full_allowance - self.stored_expiry >= RENEWAL_STEP


_SESSION_FIELDS = ("session_key", "session_data", "expire_date")
_session_by_key = PreparedQuery(
    lambda key: SessionStore.get_model_class().objects.filter(session_key=key).values_list(*_SESSION_FIELDS), str
)


class SessionRenewalMiddleware:
    """Marks a loaded session for saving when its expiry is due for renewal; Django's session middleware, which
    runs after this one on the way out, writes it with a full allowance again."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if isinstance(session, SessionStore) and session.accessed and session.is_due_for_renewal():
            session.modified = True
        return response
