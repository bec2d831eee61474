"""The Jinja2 environment of the pages rendered with Jinja2 (the case page's sections): Django's URL and static
look-ups, and Django's own filters for dates, line breaks, sizes and plurals, so a page reads the same in either
engine."""

import datetime
import functools

from django.template import defaultfilters
from django.templatetags.static import static
from django.urls import reverse
from django.utils.timezone import template_localtime
from django.utils.translation import get_language
from jinja2 import Environment, Undefined

from .forms_rendering import field_groups


def url(name, *args):
    return reverse(name, args=args)


def date(value, format_string):
    """Django's ``date`` filter, in the current time zone as the template language shows it. A page shows the same
    moments again and again (the queue's fifty rows, a case's messages): each is formatted once per worker."""
    if not value:
        return ""
    local = template_localtime(value)
    if not isinstance(local, datetime.datetime):
        return defaultfilters.date(local, format_string)
    # An aware datetime hashes by its instant alone: the offset and zone name keep two zones' renderings apart.
    return _formatted(local, local.utcoffset(), local.tzname(), format_string, get_language())


@functools.lru_cache(maxsize=4096)
def _formatted(local, _offset, _zone, format_string, _language):
    return defaultfilters.date(local, format_string)


def linebreaksbr(value):
    return defaultfilters.linebreaksbr(value, autoescape=True)


def environment(**options):
    # A missing value prints nothing, as in the template language, in development too (Django's default there
    # prints the expression).
    options["undefined"] = Undefined
    options.pop("autoescape", None)
    env = Environment(autoescape=True, **options)
    env.globals.update(url=url, static=static, field_groups=field_groups)
    env.filters.update(
        date=date,
        linebreaksbr=linebreaksbr,
        filesizeformat=defaultfilters.filesizeformat,
        pluralize=defaultfilters.pluralize,
    )
    return env
