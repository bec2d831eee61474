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

    def is_blocked(self, request, *extra_keys):
        return any(cache.get(key, 0) >= self.limit for key in self._keys(request, extra_keys))

    def note_failure(self, request, *extra_keys):
        for key in self._keys(request, extra_keys):
            if cache.add(key, 1, self.window_seconds):
                continue
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, self.window_seconds)

    def reset(self, request, *extra_keys):
        cache.delete_many(self._keys(request, extra_keys))

    def _keys(self, request, extra_keys):
        keys = [_client_tag(self.scope, request)]
        keys += [f"throttle:{self.scope}:key:" + hashlib.sha256(k.encode()).hexdigest()[:32] for k in extra_keys]
        return keys


def receipt_throttle():
    return Throttle("receipt", settings.COCDESK_RECEIPT_ATTEMPTS, settings.COCDESK_RECEIPT_WINDOW)
