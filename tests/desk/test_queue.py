"""The team queue, GET /desk/: pages of 50, its order, its filters, its counts per state, finding a case by its
reference, and who sees which rows. Every leak test first creates the cases that could leak."""

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from cocdesk.cases.domain import workflow
from cocdesk.cases.domain.keys import erase_case
from cocdesk.cases.domain.recusal import recuse
from cocdesk.cases.domain.references import new_reference
from cocdesk.cases.enums import CaseState, Finding, RecusalReason, RecusalSource
from cocdesk.cases.models import Case
from tests.clock import acknowledge, fresh
from tests.factories import OrganizationFactory, SpaceFactory, UserFactory, member, report_case
from tests.pages import parse, queue_rows
from tests.sanctions.factories_decisions import decide
from tests.team import log_in

H = timedelta(hours=1)
NOT_FOUND = "No case with the reference"


# --- reading the page ----------------------------------------------------------------------------------------------


def get(client, query=""):
    response = client.get(f"/desk/{query}")
    assert response.status_code == 200, query
    return response


def references(response):
    return [row["Reference"] for row in queue_rows(response.content)]


def state_counts(response):
    """{state label: count} as the page shows them beside the queue."""
    counts = {}
    for item in parse(response.content).find("nav", "state-counts").find_all("li"):
        label, colon, number = item.text().rpartition(": ")
        if colon:
            counts[label] = int(number.replace(",", "")) if number.replace(",", "").isdigit() else number
    return counts


def total(response):
    return int(parse(response.content).find("p", "queue-total").text().split()[0])


def page_links(response):
    """{'prev'/'next': (text, href)} of the page navigation."""
    nav = parse(response.content).find("nav", "pages")
    return {a.attrs["rel"]: (a.text(), a.attrs["href"]) for a in nav.find_all("a")} if nav else {}


def set_acknowledge_due(case, due):
    case = fresh(case)
    case.acknowledge_due = due
    case.save(update_fields=["acknowledge_due"])  # save() keeps the stored next deadline true
    return case


def new_case(organization, name, **answers):
    case, _receipt = report_case(
        organization, description=f"Canary-Queue-{name}: he would not leave me alone.", **answers
    )
    return fresh(case)


# --- pages of 50 ---------------------------------------------------------------------------------------------------


def test_the_queue_pages_by_50_and_shows_every_case_once(client, organization):
    responder = member(organization, "responder")
    created = [new_case(organization, f"page-{n}").reference for n in range(120)]
    log_in(client, responder.user)

    first, second, third = (get(client, query) for query in ("", "?page=2", "?page=3"))
    pages = [references(first), references(second), references(third)]
    assert [len(page) for page in pages] == [50, 50, 20]
    listed = [reference for page in pages for reference in page]
    assert len(set(listed)) == 120, "no case twice across pages"
    assert set(listed) == set(created)
    # The same deadline policy for all: ordered by due time, which is the order they came in.
    assert listed == created
    assert references(get(client, "?page=1")) == pages[0], "a stable order"
    assert references(get(client, "?page=4")) == []
    assert all(total(page) == 120 for page in (first, second, third))

    assert page_links(first) == {"next": ("Next 50", "?page=2")}
    assert page_links(second) == {"prev": ("Previous 50", "?page=1"), "next": ("Next 50", "?page=3")}
    assert page_links(third) == {"prev": ("Previous 50", "?page=2")}
    # Links keep the filters.
    links = page_links(get(client, "?show=new&page=2"))
    assert links["next"][1] == "?show=new&page=3"
    assert links["prev"][1] == "?show=new&page=1"


@pytest.mark.parametrize(
    "page",
    ["abc", "0", "-1", "1.5", "", "99999999999999999999", "10001", "2%00", "%F0%9F%98%80"],
)
def test_a_bad_page_value_shows_the_first_page(client, organization, page):
    responder = member(organization, "responder")
    created = [new_case(organization, f"bad-page-{n}").reference for n in range(3)]
    log_in(client, responder.user)
    response = get(client, f"?page={page}")
    assert references(response) == created
    assert page_links(response) == {}


def test_a_page_far_past_the_end_is_empty_not_an_error(client, organization):
    responder = member(organization, "responder")
    new_case(organization, "far")
    log_in(client, responder.user)
    response = get(client, "?page=10000")
    assert references(response) == []
    assert total(response) == 1


# --- order ---------------------------------------------------------------------------------------------------------


def test_open_cases_urgent_first_then_by_next_deadline_and_the_others_newest_first(client, organization):
    responder, lead = member(organization, "responder"), member(organization, "lead")
    now = timezone.now()
    tie = now + 5 * H
    cases = {}
    # Created in an order that neither received time nor due time alone would sort into the expected one.
    cases["overdue"] = set_acknowledge_due(new_case(organization, "overdue"), now - 2 * H)
    closed = new_case(organization, "closed")
    decide(closed, by=lead.user, finding=Finding.VIOLATION)
    cases["closed, older"] = workflow.transition(closed, "close", by=lead.user)
    cases["update due in 7 days"] = acknowledge(new_case(organization, "acknowledged"), lead)
    cases["decided, newer"] = decide(new_case(organization, "decided"), by=lead.user, finding=Finding.NO_VIOLATION)
    cases["due in 5 h, older"] = set_acknowledge_due(new_case(organization, "tie-older"), tie)
    cases["due in 5 h, newer"] = set_acknowledge_due(new_case(organization, "tie-newer"), tie)
    cases["due in 24 h"] = new_case(organization, "default")
    cases["urgent, due in 1 h"] = set_acknowledge_due(new_case(organization, "urgent-1", ongoing="yes"), now + H)
    cases["urgent, due in 90 min"] = set_acknowledge_due(
        new_case(organization, "urgent-2", ongoing="yes"), now + 1.5 * H
    )
    open_expected = [
        "urgent, due in 1 h",
        "urgent, due in 90 min",
        "overdue",
        "due in 5 h, older",
        "due in 5 h, newer",
        "due in 24 h",
        "update due in 7 days",
    ]
    created = list(cases)
    # The order is read from the stored next deadline.
    stored = {name: fresh(case).next_due_at for name, case in cases.items()}
    assert stored["due in 5 h, older"] == stored["due in 5 h, newer"] == tie
    assert stored["update due in 7 days"] == fresh(cases["update due in 7 days"]).update_due
    assert stored["decided, newer"] is None and stored["closed, older"] is None

    log_in(client, responder.user)
    assert references(get(client)) == [cases[name].reference for name in open_expected]
    # Every state together, and decided or closed ones alone, come newest first: they have no promise running.
    assert references(get(client, "?show=all")) == [cases[name].reference for name in reversed(created)]


# --- filters -------------------------------------------------------------------------------------------------------


@pytest.fixture
def board(db):
    """One organization's cases in every state and flag; the viewer is an organization-wide responder. Another
    organization's case (in a space of its own) is the canary that must never show."""
    organization = OrganizationFactory()
    space_a = SpaceFactory(organization=organization, name="Alpha conference")
    space_b = SpaceFactory(organization=organization, name="Beta forum")
    viewer = member(organization, "responder", username="rui-viewer")
    other_responder = member(organization, "responder", username="ola-other")
    lead = member(organization, "lead", username="lea-lead")
    conflicted_leads = [member(organization, "lead") for _ in range(organization.recusal_threshold + 1)]
    past = timezone.now() - 3 * H

    def make(name, space=None, **answers):
        return new_case(organization, name, space=space, **answers)

    cases = {
        "new-a": make("new-a", space_a),
        "urgent-b": make("urgent-b", space_b, ongoing="yes"),
        "overdue": set_acknowledge_due(make("overdue"), past),
        "urgent-overdue-a": set_acknowledge_due(make("urgent-overdue-a", space_a, ongoing="yes"), past),
        "fallback-a": make("fallback-a", space_a),
        "mine-b": make("mine-b", space_b),
        "theirs": make("theirs"),
        "acknowledged-a": acknowledge(make("acknowledged-a", space_a), lead),
        "investigating-b": make("investigating-b", space_b),
        "decided": make("decided"),
        "closed-a": make("closed-a", space_a),
        "reopened-b": make("reopened-b", space_b),
        "merged": acknowledge(make("merged"), lead),
    }
    for membership in conflicted_leads:
        recuse(cases["fallback-a"], membership, reason=RecusalReason.CO_WORKER, source=RecusalSource.DECLARED)
    workflow.assign(cases["mine-b"], [viewer], by=lead.user)
    workflow.assign(cases["theirs"], [other_responder], by=lead.user)
    workflow.transition(cases["investigating-b"], "start_investigation", by=lead.user)
    for name in ("decided", "closed-a", "reopened-b"):
        decide(cases[name], by=lead.user, finding=Finding.VIOLATION)
    workflow.transition(fresh(cases["closed-a"]), "close", by=lead.user)
    workflow.transition(fresh(cases["reopened-b"]), "reopen", by=lead.user)
    workflow.merge(fresh(cases["merged"]), into=fresh(cases["acknowledged-a"]), by=lead.user)
    cases = {name: fresh(case) for name, case in cases.items()}
    assert cases["fallback-a"].under_fallback
    assert cases["overdue"].next_due_at < timezone.now()
    assert {case.state for case in cases.values()} == set(CaseState.values)

    other_organization = OrganizationFactory()
    other_space = SpaceFactory(organization=other_organization, name="Gamma meetup")
    member(other_organization, "responder")
    canary = new_case(other_organization, "other-organization", space=other_space, ongoing="yes")
    set_acknowledge_due(canary, past)
    return SimpleNamespace(
        organization=organization,
        space_a=space_a,
        space_b=space_b,
        other_space=other_space,
        viewer=viewer,
        cases=cases,
        canary=canary,
    )


NEW = ["new-a", "urgent-b", "overdue", "urgent-overdue-a", "fallback-a", "mine-b", "theirs"]
OPEN = [*NEW, "acknowledged-a", "investigating-b", "reopened-b"]
ALL = [*OPEN, "decided", "closed-a", "merged"]
ASSIGNED = ["mine-b", "theirs"]

FILTERS = [
    ("", OPEN),
    ("?show=open", OPEN),
    ("?show=new", NEW),
    ("?show=acknowledged", ["acknowledged-a"]),
    ("?show=investigating", ["investigating-b"]),
    ("?show=decided", ["decided"]),
    ("?show=reopened", ["reopened-b"]),
    ("?show=closed", ["closed-a"]),
    ("?show=finished", ["closed-a", "merged"]),
    ("?show=merged", ["merged"]),
    ("?show=all", ALL),
    ("?space={a}", ["new-a", "urgent-overdue-a", "fallback-a", "acknowledged-a"]),
    ("?space={a}&show=all", ["new-a", "urgent-overdue-a", "fallback-a", "acknowledged-a", "closed-a"]),
    ("?space={b}", ["urgent-b", "mine-b", "investigating-b", "reopened-b"]),
    ("?space={b}&show=closed", []),
    ("?urgent=on", ["urgent-b", "urgent-overdue-a"]),
    ("?overdue=on", ["overdue", "urgent-overdue-a"]),
    ("?fallback=on", ["fallback-a"]),
    ("?mine=on", ["mine-b"]),
    ("?unassigned=on", [name for name in OPEN if name not in ASSIGNED]),
    ("?unassigned=on&show=all", [name for name in ALL if name not in ASSIGNED]),
    ("?urgent=on&space={a}", ["urgent-overdue-a"]),
    ("?urgent=on&overdue=on", ["urgent-overdue-a"]),
    ("?overdue=on&space={b}", []),
    ("?mine=on&unassigned=on", []),
    ("?fallback=on&space={a}&show=new", ["fallback-a"]),
    ("?fallback=on&space={b}", []),
    ("?mine=on&space={b}&show=all", ["mine-b"]),
    ("?unassigned=on&space={b}&show=all", ["urgent-b", "investigating-b", "reopened-b"]),
    ("?urgent=on&show=closed", []),
    # Unreadable values: the default queue (open cases, no filter), never an error, never another organization's.
    ("?space=notanumber", OPEN),
    ("?space={other}", OPEN),
    ("?space=", OPEN),
    ("?show=bogus", OPEN),
    ("?show=", OPEN),
    ("?urgent=on&urgent=off", ["urgent-b", "urgent-overdue-a"]),
]


def _filter_id(entry):
    query = entry.values[0] if hasattr(entry, "values") else entry[0]
    return query or "default"


@pytest.mark.parametrize(("query", "expected"), FILTERS, ids=[_filter_id(entry) for entry in FILTERS])
def test_each_filter_lists_exactly_the_right_cases(client, board, query, expected):
    url = query.format(a=board.space_a.pk, b=board.space_b.pk, other=board.other_space.pk)
    log_in(client, board.viewer.user)
    response = get(client, url)
    listed = references(response)
    assert len(listed) == len(set(listed))
    names = {case.reference: name for name, case in board.cases.items()}
    assert sorted(names.get(reference, reference) for reference in listed) == sorted(expected)
    assert total(response) == len(expected)
    assert board.canary.reference not in response.content.decode()


def test_each_link_beside_the_queue_lists_what_it_says(client, board):
    """The per-state counts and the group links are followed as a member clicks them."""
    log_in(client, board.viewer.user)
    names = {case.reference: name for name, case in board.cases.items()}
    nav = parse(get(client, "?show=all").content).find("nav", "state-counts")
    links = {a.text(): a.attrs["href"] for a in nav.find_all("a")}
    by_label = dict(CaseState.choices)
    for value, label in by_label.items():
        href = next(href for text, href in links.items() if text.startswith(f"{label}: "))
        shown = sorted(names[reference] for reference in references(get(client, href)))
        assert shown == sorted(name for name, case in board.cases.items() if case.state == value), label
    groups = {"Open": OPEN, "Closed and merged": ["closed-a", "merged"]}
    for label, expected in groups.items():
        shown = sorted(names[reference] for reference in references(get(client, links[label])))
        assert shown == sorted(expected), label


@pytest.mark.parametrize(
    "query",
    [
        "?space={other}&show=all",
        "?space={other}&urgent=on&overdue=on",
        "?show=bogus&space={other}",
        "?space=-1",
        "?space=99999999999999999999",
        "?space={a}&space={other}",
        "?show=%00",
        "?mine=maybe&fallback=%F0%9F%98%80",
    ],
)
def test_invalid_filter_combinations_never_fail_and_never_reveal_another_organization(client, board, query):
    url = query.format(a=board.space_a.pk, other=board.other_space.pk)
    log_in(client, board.viewer.user)
    response = get(client, url)
    listed = set(references(response))
    assert listed <= {case.reference for case in board.cases.values()}
    assert board.canary.reference not in response.content.decode()


# --- counts per state ----------------------------------------------------------------------------------------------


def test_counts_per_state_count_only_the_cases_the_member_may_see(client, db):
    organization = OrganizationFactory()
    space_a = SpaceFactory(organization=organization, name="Alpha conference")
    space_b = SpaceFactory(organization=organization, name="Beta forum")
    viewer = member(organization, "responder", username="sam-scoped")
    viewer.spaces.add(space_a)
    everyone = member(organization, "responder", username="wes-wide")
    lead = member(organization, "lead")

    # First the canaries: cases the viewer may not see, in states that would change the counts.
    other_organization = OrganizationFactory()
    other_lead = member(other_organization, "lead")
    other_space = SpaceFactory(organization=other_organization, name="Alpha conference")
    foreign = new_case(other_organization, "foreign", space=other_space)
    decide(foreign, by=other_lead.user, finding=Finding.VIOLATION)
    recused = acknowledge(new_case(organization, "recused", space=space_a), lead)
    recuse(recused, viewer, reason=RecusalReason.FAMILY, source=RecusalSource.DECLARED, by=viewer.user)
    excluded = new_case(organization, "excluded", space=space_a, excluded_members=[viewer])
    elsewhere = new_case(organization, "elsewhere", space=space_b)
    workflow.transition(elsewhere, "start_investigation", by=lead.user)
    spaceless = new_case(organization, "spaceless")
    canaries = [foreign, recused, excluded, elsewhere, spaceless]

    # Then what the viewer may see.
    new_case(organization, "new-1", space=space_a)
    new_case(organization, "new-2", space=space_a)
    acknowledge(new_case(organization, "acknowledged", space=space_a), lead)
    decide(new_case(organization, "decided", space=space_a), by=lead.user, finding=Finding.NO_VIOLATION)
    closed = new_case(organization, "closed", space=space_a)
    decide(closed, by=lead.user, finding=Finding.VIOLATION)
    workflow.transition(closed, "close", by=lead.user)

    expected = {
        "New": 2,
        "Acknowledged": 1,
        "Investigating": 0,
        "Decided": 1,
        "Closed": 1,
        "Reopened": 0,
        "Merged into another case": 0,
    }
    log_in(client, viewer.user)
    totals = {"": 3, "?show=all": 5, "?show=new": 2, "?show=investigating": 0, "?show=closed": 1, "?show=finished": 1}
    for query, shown in totals.items():
        response = get(client, query)
        assert state_counts(response) == expected, query
        assert total(response) == shown, query
        assert len(references(response)) == shown, query
        content = response.content.decode()
        for canary in canaries:
            assert canary.reference not in content, query
        assert "Canary-Queue-" not in content, "the queue lists cases, never their content"
    # The counts follow the other filters too, and still leave the canaries out.
    response = get(client, f"?space={space_a.pk}&unassigned=on")
    assert state_counts(response) == expected
    assert state_counts(get(client, f"?space={space_b.pk}")) == dict.fromkeys(expected, 0)

    # An organization-wide responder who is neither recused nor excluded counts them (the canaries are real).
    log_in(client, everyone.user)
    assert state_counts(get(client)) == {**expected, "New": 4, "Acknowledged": 2, "Investigating": 1}


# --- finding a case by its reference -------------------------------------------------------------------------------


def normalised(response, typed):
    """The page with the typed reference and the per-response CSRF token taken out."""
    content = response.content.decode().replace(typed, "<typed>")
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', 'name="csrfmiddlewaretoken"', content)


def test_a_reference_finds_a_visible_case_however_it_is_typed(client, organization):
    responder = member(organization, "responder")
    case = new_case(organization, "find-me")
    reference = case.reference
    log_in(client, responder.user)
    typed = [
        reference,
        reference.lower(),
        reference.replace("-", " "),
        reference.replace("-", ""),
        reference.replace("-", "").lower(),
        f"  {reference.lower()}  ",
        reference.replace("-", " - "),
    ]
    for text in typed:
        response = client.get("/desk/", {"reference": text})
        assert response.status_code == 302, text
        assert response["Location"] == f"/desk/cases/{reference}/"
    assert client.get(f"/desk/cases/{reference}/").status_code == 200


def test_an_invisible_case_and_a_missing_one_answer_alike(client, organization):
    responder = member(organization, "responder")
    visible = new_case(organization, "visible")  # a row in the queue, on every answer alike
    recused = new_case(organization, "recused")
    recuse(recused, responder, reason=RecusalReason.CO_WORKER, source=RecusalSource.DECLARED, by=responder.user)
    other_organization = OrganizationFactory()
    member(other_organization, "lead")
    foreign = new_case(other_organization, "foreign")
    missing = new_reference()
    while Case.objects.filter(reference=missing).exists():
        missing = new_reference()

    log_in(client, responder.user)
    answers = {}
    for name, reference in [("missing", missing), ("recused", recused.reference), ("foreign", foreign.reference)]:
        for typed in (reference, reference.lower().replace("-", "")):
            response = client.get("/desk/", {"reference": typed})
            assert response.status_code == 200, (name, typed)
            content = response.content.decode()
            assert NOT_FOUND in content
            assert typed in content, "the reference is echoed"
            assert references(response) == [visible.reference]
            answers[name, typed == reference] = normalised(response, typed)
    for exact in (True, False):
        assert answers["recused", exact] == answers["missing", exact]
        assert answers["foreign", exact] == answers["missing", exact]
    # The invisible cases' pages are 404, like a missing one.
    for reference in (recused.reference, foreign.reference, missing):
        assert client.get(f"/desk/cases/{reference}/").status_code == 404


@pytest.mark.parametrize("typed", ["-", "   ", "x" * 200, "<script>", "%", "ABCD-EFGH-JKMN-PQRS-TVWX-YZ23-4567-89AB-C"])
def test_an_odd_reference_answers_the_same_message(client, organization, typed):
    responder = member(organization, "responder")
    log_in(client, responder.user)
    response = client.get("/desk/", {"reference": typed})
    assert response.status_code == 200
    if typed.strip():
        assert NOT_FOUND in response.content.decode()
    assert "<script>" not in response.content.decode()


# --- accounts with Django flags ------------------------------------------------------------------------------------


@pytest.mark.parametrize("membership", ["none", "admin of the organization"])
def test_a_superuser_sees_no_case(client, organization, membership):
    member(organization, "lead")
    space = SpaceFactory(organization=organization)
    cases = [new_case(organization, "one"), new_case(organization, "two", space=space, ongoing="yes")]
    if membership == "none":
        user = UserFactory(username="root", is_superuser=True, is_staff=True)
    else:
        user = member(organization, "admin", username="ada-admin").user
        user.is_superuser = user.is_staff = True
        user.save()
    log_in(client, user)
    for query in ("", "?show=all", "?urgent=on", f"?space={space.pk}"):
        response = get(client, query)
        assert references(response) == [], query
        assert state_counts(response) == dict.fromkeys(state_counts(response), 0)
        assert total(response) == 0
    for case in cases:
        assert client.get(f"/desk/cases/{case.reference}/").status_code == 404
        response = client.get("/desk/", {"reference": case.reference})
        assert response.status_code == 200
        assert NOT_FOUND in response.content.decode()


# --- space-scoped members ------------------------------------------------------------------------------------------


def test_a_space_scoped_responder_sees_only_the_cases_of_their_space(client, organization):
    space_a = SpaceFactory(organization=organization, name="Alpha conference")
    space_b = SpaceFactory(organization=organization, name="Beta forum")
    scoped = member(organization, "responder", username="sam-scoped")
    scoped.spaces.add(space_a)
    wide = member(organization, "responder", username="wes-wide")
    in_a = [new_case(organization, "a-1", space=space_a), new_case(organization, "a-2", space=space_a, ongoing="yes")]
    in_b = new_case(organization, "b", space=space_b, ongoing="yes")
    spaceless = new_case(organization, "none")

    log_in(client, scoped.user)
    for query in ("", "?show=all", "?urgent=on", f"?space={space_b.pk}", f"?space={space_a.pk}"):
        response = get(client, query)
        content = response.content.decode()
        assert in_b.reference not in content and spaceless.reference not in content, query
        assert set(references(response)) <= {case.reference for case in in_a}
    assert sorted(references(get(client))) == sorted(case.reference for case in in_a)
    assert state_counts(get(client))["New"] == 2
    for case in (in_b, spaceless):
        assert client.get(f"/desk/cases/{case.reference}/").status_code == 404
        assert client.get("/desk/", {"reference": case.reference}).status_code == 200
    assert client.get("/desk/", {"reference": in_a[0].reference}).status_code == 302

    log_in(client, wide.user)
    everything = [*in_a, in_b, spaceless]
    assert sorted(references(get(client))) == sorted(case.reference for case in everything)
    assert state_counts(get(client))["New"] == 4


# --- erased cases --------------------------------------------------------------------------------------------------


def test_erased_cases_drop_out_of_the_queue_and_its_counts(client, organization):
    responder = member(organization, "responder")
    kept = new_case(organization, "kept")
    erased = new_case(organization, "erased", ongoing="yes")
    erase_case(erased)
    log_in(client, responder.user)
    for query in ("", "?show=all", "?show=new", "?urgent=on", "?unassigned=on"):
        response = get(client, query)
        assert erased.reference not in response.content.decode(), query
    assert references(get(client)) == [kept.reference]
    assert state_counts(get(client))["New"] == 1
    assert total(get(client, "?show=all")) == 1


def test_counts_stop_at_the_cap_and_say_so(client, organization, monkeypatch):
    from cocdesk.cases.domain import queries
    from cocdesk.desk import queue_views

    monkeypatch.setattr(queries, "COUNT_CAP", 2)
    monkeypatch.setattr(queue_views, "COUNT_CAP", 2)
    responder = member(organization, "responder")
    for n in range(4):
        new_case(organization, f"capped-{n}")
    log_in(client, responder.user)
    response = get(client)
    assert state_counts(response)["New"] == "2+"
    assert "2+ cases" in response.content.decode()
    assert len(references(response)) == 4  # the page itself is never capped
