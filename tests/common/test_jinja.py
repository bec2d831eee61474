"""The Jinja2 pages' date filter reads as the template language's, in the time zone in force, even though each
moment is formatted once per worker."""

import datetime
import zoneinfo

from django.template import Context, Template
from django.utils import timezone

from cocdesk.common.jinja import date

MOMENT = datetime.datetime(2026, 3, 29, 0, 30, tzinfo=datetime.UTC)


def test_reads_as_the_template_language():
    for zone in ("UTC", "Europe/Berlin", "America/Los_Angeles"):
        with timezone.override(zoneinfo.ZoneInfo(zone)):
            expected = Template('{{ moment|date:"j M Y, H:i T" }}').render(Context({"moment": MOMENT}))
            assert date(MOMENT, "j M Y, H:i T") == expected


def test_one_moment_in_two_time_zones_is_two_renderings():
    with timezone.override(zoneinfo.ZoneInfo("UTC")):
        in_utc = date(MOMENT, "j M Y, H:i")
    with timezone.override(zoneinfo.ZoneInfo("Asia/Tokyo")):
        in_tokyo = date(MOMENT, "j M Y, H:i")
    assert in_utc == "29 Mar 2026, 00:30"
    assert in_tokyo == "29 Mar 2026, 09:30"


def test_nothing_prints_nothing_and_a_plain_date_is_formatted():
    assert date(None, "j M Y") == ""
    assert date(datetime.date(2026, 1, 2), "j M Y") == "2 Jan 2026"
