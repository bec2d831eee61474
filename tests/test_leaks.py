"""Nothing a reporter or the team writes, and nothing about the reporter's connection, reaches the database in
clear or any log.

One journey writes distinctive canary strings through every way content enters the system (the public form,
the reporter's follow-up, the team's message, recusal notes, a reinstatement reason) from a client with a
recognisable address and user agent, while every logger records at DEBUG level. Then the raw database (the SQLite
file with its WAL, or a pg_dump of PostgreSQL), the sessions, the mail sent and the log text are searched for every
canary in several encodings. The scan first proves it can see what is meant to be in clear (the case reference).
"""

import json
import logging
import os
import re
import secrets
import subprocess
from pathlib import Path

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.db import connection
from django.test import Client

from cocdesk.cases.domain import team
from cocdesk.cases.models import Case, Recusal
from cocdesk.notify.models import Notification
from cocdesk.people.normalise import normalise
from tests.factories import OrganizationFactory, SpaceFactory, member, report_case
from tests.formdata import form_fields, submit
from tests.mail_server import mail_server, make_retries_due, no_mail_server, run_worker
from tests.pages import input_value
from tests.team import log_in, log_in_through_forms

REMOTE_ADDR = "203.0.113.77"
USER_AGENT = "CanaryAgent/9.9"
CONNECTION = {"REMOTE_ADDR": REMOTE_ADDR, "HTTP_USER_AGENT": USER_AGENT}


def canaries():
    """Fresh canaries for each run; each holds a unique token and some non-ASCII text (for the JSON-escaped form)."""

    def canary(label):
        return f"Kx{secrets.token_hex(6)}{label}"

    return {
        "description": canary("Desc") + " — Zoë was cornered behind the sponsor booth",
        "reporter_name": "Ottilie " + canary("Reportername") + " Wyndham-Hß",
        "reporter_email": canary("mail").lower() + "@reporter-example.net",
        "reporter_phone": "+44 7700 " + str(secrets.randbelow(10**6)).zfill(6) + " " + canary("Phone"),
        "reporter_other_contact": "Signal: " + canary("Signal"),
        "reported_name": "Quentin " + canary("Reportedname") + " Ölund",
        "reported_nicknames": canary("Nick") + "-the-Örk",
        "reported_screen_names": "Slack: @" + canary("Handle") + "\nDiscord: " + canary("Discord") + "#1234",
        "reported_appearance": canary("Looks") + " tall, orange scarf",
        "others_involved": "Witness: " + canary("Witness") + " from the Åland meetup",
        "safety_concerns": canary("Safety") + " I fear he will find my hotel",
        "location": canary("Where") + " room B",
        "other_information": canary("Other") + " étude",
        "reporter_message": canary("Fromreporter") + " I remembered something else — naïve detail",
        "team_message": canary("Fromteam") + " Could we call you? café",
        "declared_note": canary("Declarednote") + " I reviewed their PRs — señor",
        "recusal_note": canary("Recusalnote") + " co-worker at Ångström Ltd",
        "reinstate_reason": canary("Reinstated") + " the conflict ended — façade",
        "team_note": canary("Teamnote") + " we think it is credible — déjà vu",
        "triage_summary": canary("Triage") + " grabbed an arm — Zürich",
        "triage_bad_actor": canary("Badactor") + " Ölund",
        "immediate_action": canary("Immediate") + " venue security walked him out — Malmö",
    }


def encodings(text):
    """Every form in which ``text`` could sit in a database file, a dump or a log, lower-cased."""
    forms = set()
    for variant in {text, text.lower(), normalise(text)}:
        if len(variant) < 6:
            continue
        escaped = json.dumps(variant)[1:-1]  # \u00eb for ë, \n for a line break
        for candidate in (variant, escaped):
            forms.add(candidate.encode())
            forms.add(candidate.encode("utf-16-le"))
            forms.add(candidate.encode("utf-16-be"))
            forms.add(candidate.encode().hex().encode())  # bytea in a pg_dump
    return {form.lower() for form in forms}


def needles(values):
    """The encodings of each value and of each distinctive token inside it, mapped back to a readable name."""
    found = {}
    for name, value in values.items():
        parts = {value, *re.findall(r"Kx[0-9a-f]{12}[A-Za-z]+", value)}
        for part in parts:
            for form in encodings(part):
                found[form] = f"{name} ({part!r})"
    return found


def assert_absent(haystack, wanted, where):
    haystack = haystack.lower()
    leaked = sorted({label for form, label in wanted.items() if form in haystack})
    assert not leaked, f"found in {where}: {leaked}"


# --- capturing every log record ----------------------------------------------------------------------------------


class Collector(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(pathname)s: %(message)s"))
        self.lines = []

    def emit(self, record):
        if record.name.startswith(NOT_THE_APP):
            return
        line = self.format(record)
        extras = {key: value for key, value in vars(record).items() if key not in EMPTY_RECORD_KEYS}
        self.lines.append(f"{line} {extras!r}")

    def text(self, caplog=None):
        """Everything collected, and what pytest's caplog saw on the root logger."""
        lines = list(self.lines)
        if caplog is not None:
            lines += [self.format(r) for r in caplog.records if not r.name.startswith(NOT_THE_APP)]
        return "\n".join(lines)


# The test's own SMTP server (aiosmtpd) stands for the mail server out there: what it logs is not the app's log.
NOT_THE_APP = ("mail.log",)
EMPTY_RECORD_KEYS = set(vars(logging.LogRecord("x", logging.INFO, "x", 1, "x", None, None))) | {"message", "asctime"}


@pytest.fixture
def all_logs(caplog):
    """A handler on the root logger and on every logger that does not propagate, everything at DEBUG; and SQL
    logging on, so that the queries and their parameters are searched too."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="cocdesk")
    caplog.set_level(logging.DEBUG, logger="django")
    collector = Collector()
    names = ["", "cocdesk", "cocdesk.notify", "django", "django.request", "django.server", "django.security"]
    names += ["django.db.backends", "django.template", "django_tasks_db", "django_tasks", "django.tasks"]
    names += list(logging.root.manager.loggerDict)
    touched = {}
    for name in dict.fromkeys(names):
        logger = logging.getLogger(name)
        touched[name] = logger.level
        logger.setLevel(logging.DEBUG)
        if name == "" or not logger.propagate:
            logger.addHandler(collector)
    connection.force_debug_cursor = True
    yield collector, caplog
    connection.force_debug_cursor = False
    for name, level in touched.items():
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.removeHandler(collector)


# --- reading the database as a thief with a copy would -------------------------------------------------------------


def raw_database_bytes():
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(FULL)")
        name = Path(connection.settings_dict["NAME"])
        files = [name] + [name.with_name(name.name + suffix) for suffix in ("-wal", "-shm", "-journal")]
        return b"\n".join(path.read_bytes() for path in files if path.exists())
    if connection.vendor == "postgresql":
        settings = connection.settings_dict
        pg_dump = Path(os.environ["COCDESK_TEST_PG_BINDIR"]) / "pg_dump"
        command = [str(pg_dump), "--no-owner", "--no-privileges", "-d", settings["NAME"]]
        for option, key in (("-h", "HOST"), ("-p", "PORT"), ("-U", "USER")):
            if settings.get(key):
                command += [option, str(settings[key])]
        env = {**os.environ, "PGPASSWORD": settings.get("PASSWORD") or ""}
        dumped = subprocess.run(command, capture_output=True, check=True, env=env, timeout=60)
        return dumped.stdout
    pytest.fail(f"no raw reader for {connection.vendor}")


def decoded_sessions():
    return "\n".join(json.dumps(session.get_decoded(), default=str) for session in Session.objects.all())


# --- the journey ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_no_content_address_or_user_agent_reaches_the_database_or_the_logs(all_logs):
    collector, caplog = all_logs
    written = canaries()
    organization = OrganizationFactory(recusal_threshold=0)
    space = SpaceFactory(organization=organization, name="Main hall")
    lead = member(organization, "lead", display_name="Lena Lead")
    lead2 = member(organization, "lead", display_name="Lars Lead")
    responder = member(organization, "responder", display_name="Rita Responder")
    excluded = member(organization, "responder", display_name="Ezra Excluded")
    fallback = member(organization, "fallback", display_name="Fern Fallback")

    # The reporter, through the public form.
    reporter = Client(**CONNECTION)
    form_page = reporter.get(f"/report/{organization.slug}/")
    assert form_page.status_code == 200
    answers = {key: value for key, value in written.items() if key in FORM_FIELDS}
    response = reporter.post(
        f"/report/{organization.slug}/",
        {
            **answers,
            "space": space.pk,
            "ongoing": "yes",
            "physical_danger": "no",
            "law_enforcement": "not_wanted",
            "excluded_members": [excluded.pk],
            "submission_token": input_value(form_page.content, "submission_token"),
        },
    )
    assert response.status_code == 200
    text = response.content.decode()
    reference = re.search(r'<dd id="case-reference">([^<]+)</dd>', text).group(1)
    receipt = re.search(r'<dd id="receipt" class="receipt">([^<]+)</dd>', text).group(1)
    case = Case.objects.get(reference=reference)

    # A mistyped receipt (the throttle sees the address), then the right one and a message to the team.
    assert "could not find" in reporter.post("/follow-up/", {"receipt": "WRONG-RECEIPT-0000"}).content.decode()
    assert reporter.post("/follow-up/", {"receipt": receipt}).status_code == 302
    assert reporter.post("/follow-up/case/", {"body": written["reporter_message"]}).status_code == 302
    assert written["reporter_message"] in reporter.get("/follow-up/case/").content.decode()

    # A lead: a failed login first, then password and second factor through the forms, from the same address.
    desk = Client(**CONNECTION)
    desk.post("/desk/login/", {"username": lead.user.username, "password": "not-the-password"})
    log_in_through_forms(desk, lead.user)
    page = desk.get(f"/desk/cases/{reference}/")
    assert page.status_code == 200
    assert written["description"] in page.content.decode()  # decrypted for the team: the canaries are real
    report = case.reports.get()
    response = submit(desk, page, "/messages/", report=str(report.pk), body=written["team_message"])
    assert response.status_code == 302
    assert desk.get("/desk/cases/NO-SUCH-CASE/").status_code == 404  # a logged warning, to prove capture works
    # Whatever else the team writes on the case page: internal notes, triage, immediate actions.
    for action, typed in OTHER_TEAM_WRITING.items():
        page = desk.get(f"/desk/cases/{reference}/")
        fields = form_fields(page.content, action) if f'{action}"' in page.content.decode() else {}
        if set(typed) <= set(fields):
            assert submit(desk, page, action, **{k: written[v] for k, v in typed.items()}).status_code == 302

    # The lead records a colleague's conflict with a note, then reinstates them with a reason.
    page = desk.get(f"/desk/cases/{reference}/")
    response = submit(
        desk, page, "/recusals/", membership=str(responder.pk), reason="co_worker", note=written["recusal_note"]
    )
    assert response.status_code == 302
    recusal = Recusal.objects.get(case=case, membership=responder, is_active=True)
    page = desk.get(f"/desk/cases/{reference}/")
    response = submit(desk, page, f"/recusals/{recusal.pk}/reinstate/", reason=written["reinstate_reason"])
    assert response.status_code == 302
    assert not Recusal.objects.get(pk=recusal.pk).is_active

    # A second lead declares a conflict with a note: with threshold 0 the fallback member is brought in and told.
    other = log_in(Client(**CONNECTION), lead2.user)
    declare = other.get(f"/desk/cases/{reference}/recuse-me/")
    response = other.post(
        f"/desk/cases/{reference}/recuse-me/",
        {**form_fields(declare.content, ""), "reason": "other", "note": written["declared_note"]},
    )
    assert response.status_code == 302
    assert Recusal.objects.filter(case=case, membership=lead2, is_active=True).exists()
    assert Notification.objects.filter(recipient=fallback.user, kind="fallback_engaged").count() == 1

    # The real worker tries to send it: first the SMTP server is unreachable, then mail is delivered locally.
    # (Delivery itself is tested in tests/cases/test_recusal_fallback.py; here only what is written matters.)
    with no_mail_server():
        run_worker()
    make_retries_due()
    mail.outbox.clear()
    run_worker()

    # The fallback member reads the case too.
    fallback_client = log_in(Client(**CONNECTION), fallback.user)
    assert written["recusal_note"] not in fallback_client.get(f"/desk/cases/{reference}/").content.decode()
    assert fallback_client.get(f"/desk/cases/{reference}/").status_code == 200

    wanted = needles(written)
    connection_needles = {form: "REMOTE_ADDR" for form in encodings(REMOTE_ADDR)}
    connection_needles |= {form: "user agent" for form in encodings(USER_AGENT) | encodings("CanaryAgent")}

    # (a, b) The raw database: the scan sees the reference, and none of the canaries, the address or user agent.
    raw = raw_database_bytes()
    assert reference.encode() in raw, "the scan does not see the database's plain columns"
    assert organization.name.encode() in raw
    assert_absent(raw, wanted, f"the raw {connection.vendor} database")
    assert_absent(raw, connection_needles, f"the raw {connection.vendor} database")
    # Sessions are stored encoded: decoded, they hold neither.
    sessions = decoded_sessions().encode()
    assert_absent(sessions, wanted, "a session")
    assert_absent(sessions, connection_needles, "a session")

    # The mail that left the system names the case and nothing of it; only a notice to the reporter goes to the
    # address they gave.
    team_addresses = {m.user.email for m in (lead, lead2, responder, excluded, fallback)}
    for message in mail.outbox:
        sent = f"{message.subject}\n{message.body}\n{message.extra_headers}".encode()
        assert_absent(sent, wanted | connection_needles, "a sent mail")
        assert set(message.to) <= team_addresses | {written["reporter_email"]}

    # (c) The logs: proven to capture the request, SQL and our own loggers, and free of all of it.
    logging.getLogger("cocdesk.notify").debug("leak-probe")
    logs = collector.text(caplog)
    assert "Not Found: /desk/cases/NO-SUCH-CASE/" in logs
    assert "leak-probe" in logs  # the cocdesk loggers do not propagate to the root logger
    assert "cases_case" in logs  # SQL with its parameters
    assert reference in logs
    assert_absent(logs.encode(), wanted, "the logs")
    assert_absent(logs.encode(), connection_needles, "the logs")


# Forms of the case page beyond the brief's list: posted when the page has them, each with its canaries.
OTHER_TEAM_WRITING = {
    "/notes/": {"body": "team_note"},
    "/triage/": {"what_happened": "triage_summary", "bad_actor": "triage_bad_actor"},
    "/immediate-actions/": {"description": "immediate_action"},
}


@pytest.mark.django_db(transaction=True)
def test_a_refused_reporter_address_is_neither_logged_nor_stored(all_logs):
    """A reporter's email address is only ever in the sealed report; the mail server refusing it must not copy it
    into the notification's error column or the warning logged for the retry."""
    collector, caplog = all_logs
    written = canaries()
    organization = OrganizationFactory()
    lead = member(organization, "lead")
    case, _receipt = report_case(
        organization, description=written["description"], reporter_email=written["reporter_email"]
    )
    report = case.reports.get()
    with mail_server(refuse=[written["reporter_email"]]) as inbox:
        run_worker()  # whatever intake queued for the team
        team.message_reporter(case, report, author=lead.user, body=written["team_message"])
        notice = Notification.objects.get(report=report)
        run_worker()
    notice.refresh_from_db()
    assert notice.attempts == 1, "the notice was not even tried"
    assert notice.state == Notification.State.PENDING  # refused, so retried later
    assert inbox.to(written["reporter_email"]) == []
    wanted = needles({"reporter_email": written["reporter_email"]})
    places = {
        "Notification.last_error": notice.last_error.encode(),
        f"the raw {connection.vendor} database": raw_database_bytes(),
        "the logs": collector.text(caplog).encode(),
    }
    leaked = [where for where, haystack in places.items() if any(form in haystack.lower() for form in wanted)]
    assert leaked == [], f"the reporter's address is in {leaked}"


FORM_FIELDS = {
    "description",
    "reporter_name",
    "reporter_email",
    "reporter_phone",
    "reporter_other_contact",
    "reported_name",
    "reported_nicknames",
    "reported_screen_names",
    "reported_appearance",
    "others_involved",
    "safety_concerns",
    "location",
    "other_information",
}
