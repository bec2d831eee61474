"""Pages a worker renders once and serves again for as long as what they show is unchanged.

A page is kept with the values it was rendered from (an organization's row, its spaces...), read fresh on each
request: when they compare equal the kept page is served, else it is rendered again. Comparing the values costs
less than turning them into a cache key, and nothing is ever served from values older than the request's own
reading, in any worker. The pages live in the worker's memory, never in a shared cache: they are rendered without
the request, so nothing of a visitor is in them.
"""

import threading
import weakref

from django.core.signals import setting_changed
from django.dispatch import receiver

_every = weakref.WeakSet()


class WorkerPages:
    """At most ``most`` pages, by key; the oldest kept goes first when another is added."""

    def __init__(self, most=256):
        self._most = most
        self._pages = {}
        self._lock = threading.Lock()
        _every.add(self)

    def page(self, key, source, render):
        """The page kept under ``key`` if it was rendered from values equal to ``source``; else ``render()``,
        kept from now on."""
        kept = self._pages.get(key)
        if kept is not None and kept[0] == source:
            return kept[1]
        page = render()
        with self._lock:
            self._pages.pop(key, None)
            while len(self._pages) >= self._most:
                self._pages.pop(next(iter(self._pages)))
            self._pages[key] = (source, page)
        return page

    def clear(self):
        with self._lock:
            self._pages.clear()


def organization_row(organization):
    """Every column of an organization's row, as ``WorkerPages`` compares it."""
    return tuple(getattr(organization, field.attname) for field in organization._meta.concrete_fields)


@receiver(setting_changed)
def forget_every_page(**kwargs):
    """A page may show what a setting gives (templates, the site's name): one changed (in tests), all go."""
    for pages in list(_every):
        pages.clear()
