"""Django's message storage (cookie first, then session), made only when a request reads or adds a message.

``MessageMiddleware`` gives every request a storage, and Django's ``FallbackStorage`` makes its cookie and session
storages at once: the cookie one builds its signer, which costs a reporter's page load more than reading its
organization does. Most requests (every reporter's) never touch messages, and a storage that was neither read nor
given a message writes nothing, so the two are made on first use.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.messages.storage.base import BaseStorage
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.messages.storage.fallback import FallbackStorage
from django.utils.functional import cached_property


class LazyFallbackStorage(FallbackStorage):
    def __init__(self, request, *args, **kwargs):
        BaseStorage.__init__(self, request, *args, **kwargs)
        self._storage_arguments = (request, *args), kwargs
        self._used_storages = set()

    @cached_property
    def storages(self):
        args, kwargs = self._storage_arguments
        return [storage_class(*args, **kwargs) for storage_class in self.storage_classes]

    def may_hold_messages(self):
        """False when there is surely no message to show: this request added none and read none, and the browser
        sent neither a message cookie nor a session cookie (where the two storages keep them)."""
        if self._queued_messages or "storages" in vars(self):
            return True
        cookies = self.request.COOKIES
        return CookieStorage.cookie_name in cookies or settings.SESSION_COOKIE_NAME in cookies


def has_messages(request):
    """Whether the request has messages to show, without making the storages when it surely has none."""
    storage = messages.get_messages(request)
    if isinstance(storage, LazyFallbackStorage) and not storage.may_hold_messages():
        return False
    return len(storage) > 0
