"""Counting failed attempts without storing who made them.

The client's address is only ever used as an HMAC input with a key that changes every day. The resulting tag is
the key of a ThrottleCount row, in the database because every web worker, on every host, must see the same count;
a count kept in one process's memory would let a guesser multiply the limit by the number of workers. The row
lives for the length of the window (``manage.py prune_records`` deletes expired ones) and is never logged.
"""

import hashlib
import hmac
import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .models import ThrottleCount

logger = logging.getLogger("cocdesk.throttle")

# Creating a row loses a race only to another worker creating the same one, after which the update path succeeds.
CREATE_RACE_RETRIES = 3


def _client_tag(scope, request):
    day = timezone.now().strftime("%Y-%m-%d")
    key = hashlib.sha256(f"{settings.SECRET_KEY}:{day}".encode()).digest()
    address = request.META.get(settings.COCDESK_CLIENT_ADDRESS_HEADER) or request.META.get("REMOTE_ADDR", "")
    return f"throttle:{scope}:" + hmac.new(key, address.encode(), hashlib.sha256).hexdigest()[:32]


class Throttle:
    def __init__(self, scope, limit, window_seconds):
        self.scope = scope
        self.limit = limit
        self.window_seconds = window_seconds

    def is_blocked(self, request):
        return self._count(_client_tag(self.scope, request)) >= self.limit

    def note_failure(self, request):
        self._increment(_client_tag(self.scope, request))

    def is_blocked_key(self, name):
        return self._count(self._named(name)) >= self.limit

    def note_failure_key(self, name):
        self._increment(self._named(name))

    def reset_key(self, name):
        ThrottleCount.objects.filter(key=self._named(name)).delete()

    def _named(self, name):
        return f"throttle:{self.scope}:key:" + hashlib.sha256(name.encode()).hexdigest()[:32]

    def _count(self, key):
        live = ThrottleCount.objects.filter(key=key, window_ends_at__gt=timezone.now())
        return live.values_list("count", flat=True).first() or 0

    def _increment(self, key):
        """Adds one failure in a single statement per case, so concurrent workers never lose a count."""
        for _attempt in range(CREATE_RACE_RETRIES):
            now = timezone.now()
            if ThrottleCount.objects.filter(key=key, window_ends_at__gt=now).update(count=F("count") + 1):
                return
            window_ends_at = now + timedelta(seconds=self.window_seconds)
            # An expired row starts a new window. The condition is checked again under the row lock, so of two
            # workers resetting at once only one succeeds; the other finds the live row on its next try.
            expired = ThrottleCount.objects.filter(key=key, window_ends_at__lte=now)
            if expired.update(count=1, window_ends_at=window_ends_at):
                return
            try:
                with transaction.atomic():  # a savepoint: the caller's transaction survives a lost race
                    ThrottleCount.objects.create(key=key, count=1, window_ends_at=window_ends_at)
                return
            except IntegrityError:
                continue
        logger.warning("a %s failure was not counted: %d races to create its row lost", self.scope, CREATE_RACE_RETRIES)


def receipt_throttle():
    return Throttle("receipt", settings.COCDESK_RECEIPT_ATTEMPTS, settings.COCDESK_RECEIPT_WINDOW)
