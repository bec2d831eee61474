"""Counting failed attempts without storing who made them.

The client's address is only ever used as an HMAC input with a key that changes every day; the resulting tag
lives in the in-memory cache for the length of the window and is never written to the database or a log.
"""

import hashlib
import hmac

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone


def _client_tag(scope, request):
    day = timezone.now().strftime("%Y-%m-%d")
    key = hashlib.sha256(f"{settings.SECRET_KEY}:{day}".encode()).digest()
    address = request.META.get("REMOTE_ADDR", "")
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
        cache.delete(self._named(name))

    def _named(self, name):
        return f"throttle:{self.scope}:key:" + hashlib.sha256(name.encode()).hexdigest()[:32]

    def _count(self, key):
        return cache.get(key, 0)

    def _increment(self, key):
        if cache.add(key, 1, self.window_seconds):
            return
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, self.window_seconds)


def receipt_throttle():
    return Throttle("receipt", settings.COCDESK_RECEIPT_ATTEMPTS, settings.COCDESK_RECEIPT_WINDOW)
