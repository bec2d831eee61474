"""A chain of new rows, each taking an earlier row's new key, saves what saving them one after another saves: on
PostgreSQL in one statement, elsewhere one insert per row, and in the caller's transaction either way. Rows read along
with a chain are the read's own, in its order."""

import pytest
from django.db import connection, transaction
from django.db.models import Value
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cocdesk.cases.domain import content as sealed
from cocdesk.cases.domain.audience import IntakeAudience, team_reading
from cocdesk.cases.domain.deadlines import acknowledge_due, schedule, update_due
from cocdesk.cases.domain.references import new_reference
from cocdesk.cases.enums import Channel
from cocdesk.cases.models import Case, Receipt, Report
from cocdesk.common.insert_chain import Link, insert_chain
from cocdesk.common.prepared import PreparedQuery
from cocdesk.common.prepared_insert import PreparedInsert
from tests.factories import OrganizationFactory, SpaceFactory, member

insert_case, insert_report, insert_receipt = PreparedInsert(Case), PreparedInsert(Report), PreparedInsert(Receipt)
# Stamped with the time of the insert: no two inserts give the same.
STAMPS = {"created_at", "updated_at"}


class Undone(Exception):
    """Raised to roll back the rows a test saved only to read them back."""


def new_case(organization, reference, key, received_at):
    """A new case as intake builds it before saving it (``intake._take_in``), with a given reference and data key so
    that two of them can be compared column by column."""
    case = Case(
        reference=reference,
        organization=organization,
        channel=Channel.WEB,
        is_urgent=False,
        received_at=received_at,
        acknowledge_due=acknowledge_due(organization, received_at, False),
        update_due=update_due(organization, received_at),
    )
    case.key_id, case.wrapped_data_key = key
    case.next_due_at, case.next_alert_at = schedule(case)
    return case


def report_values(received_at, number):
    return {
        "received_at": received_at,
        "channel": Channel.WEB,
        "filed_by_id": None,
        "has_contact": True,
        "submission_digest": f"{number:064x}",
        "sealed_content": b"sealed report",
    }


def saved_columns(model, pk, *, leave_out=()):
    """The row as the database holds it, by attribute name, without its key and its time stamps; binary columns as
    bytes (PostgreSQL gives them as memoryviews)."""
    names = [f.attname for f in model._meta.concrete_fields if f.attname not in {"id", *STAMPS, *leave_out}]
    row = model.objects.filter(pk=pk).values(*names).get()
    return {name: bytes(value) if isinstance(value, memoryview) else value for name, value in row.items()}


def chain_rows(keys):
    """(case, report, receipt) read back, each key taken from an earlier row given as its position in ``keys``."""
    report = saved_columns(Report, keys[1])
    receipt = saved_columns(Receipt, keys[2])
    report["case_id"], receipt["report_id"] = keys.index(report["case_id"]), keys.index(receipt["report_id"])
    return saved_columns(Case, keys[0]), report, receipt


@pytest.fixture
def chain_of(db):
    """Makes the links of a report taken in: the case, its report and the report's receipt."""
    organization = OrganizationFactory()
    probe = Case(organization=organization)
    sealed.issue_data_key(probe)
    key, received_at = (probe.key_id, probe.wrapped_data_key), timezone.now()

    def links(number, reference=None):
        case = new_case(organization, reference or new_reference(), key, received_at)
        return case, [
            Link(insert_case, case, {}),
            Link(insert_report, report_values(received_at, number), {"case_id": 0}),
            Link(insert_receipt, {"digest": f"{number + 1:064x}"}, {"report_id": 1}),
        ]

    return links


def test_a_chain_saves_the_rows_saving_them_one_after_another_saves(chain_of):
    reference = new_reference()
    case, _links = chain_of(1, reference)
    with pytest.raises(Undone), transaction.atomic():
        case.save()
        report = Report.objects.create(case=case, **report_values(case.received_at, 1))
        receipt = Receipt.objects.create(report=report, digest=f"{2:064x}")
        expected = chain_rows([case.pk, report.pk, receipt.pk])
        raise Undone
    before = timezone.now()
    case, links = chain_of(1, reference)
    keys = insert_chain(links)
    assert chain_rows(keys) == expected
    assert keys[0] == case.pk is not None and not case._state.adding and case._state.db == "default"
    assert Report.objects.get(pk=keys[1]).case_id == keys[0] and Receipt.objects.get(pk=keys[2]).report_id == keys[1]
    stored = Case.objects.get(pk=case.pk)
    assert before <= stored.created_at <= timezone.now() and before <= stored.updated_at <= timezone.now()
    assert before <= Receipt.objects.get(pk=keys[2]).created_at <= timezone.now()


def test_on_postgresql_a_chain_is_one_statement_and_each_later_chain_reuses_it(
    postgresql, chain_of, prepared_statements
):
    with CaptureQueriesContext(connection) as queries:
        first = insert_chain(chain_of(1)[1])
    assert len(queries) == 1 and queries[0]["sql"].startswith("WITH link0 AS (INSERT")

    def chains():
        return [text for text in prepared_statements() if text.startswith('WITH link0 AS (INSERT INTO "cases_case"')]

    (chain,) = chains()
    assert '"cases_receipt"' in chain
    with CaptureQueriesContext(connection) as queries:
        second = insert_chain(chain_of(3)[1])
    # Same text, same prepared statement: the second chain prepares nothing new.
    assert len(queries) == 1 and chains() == [chain]
    assert second[0] > first[0] and second[1] > first[1] and second[2] > first[2]
    assert Receipt.objects.get(pk=second[2]).report.case_id == second[0]


def test_elsewhere_a_chain_is_one_insert_per_row(chain_of):
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL runs the chain as one statement")
    with CaptureQueriesContext(connection) as queries:
        keys = insert_chain(chain_of(1)[1])
    assert len(queries) == 3 and all(query["sql"].startswith("INSERT INTO") for query in queries)
    tables = ['"cases_case"', '"cases_report"', '"cases_receipt"']
    assert all(table in query["sql"] for table, query in zip(tables, queries, strict=True))
    assert Receipt.objects.get(pk=keys[2]).report.case_id == keys[0]


def test_an_instance_holding_an_expression_is_saved_by_the_orm_and_its_key_still_taken(chain_of):
    case, links = chain_of(1)
    case.code_name = Value("Blue heron")
    keys = insert_chain(links)
    assert Case.objects.get(pk=keys[0]).code_name == "Blue heron" and keys[0] == case.pk
    assert Receipt.objects.get(pk=keys[2]).report.case_id == keys[0]


def _bad_keys(links, at, keys):
    links[at] = links[at]._replace(keys=keys)
    return links


REFUSED = {
    "a column the model lacks": lambda links: _bad_keys(links, 1, {"author_id": 0}),
    "a field, not its column": lambda links: _bad_keys(links, 1, {"case": 0}),
    "its own key": lambda links: _bad_keys(links, 1, {"case_id": 1}),
    "a later link's key": lambda links: _bad_keys(links, 1, {"case_id": 2}),
    "a position before the first": lambda links: _bad_keys(links, 2, {"report_id": -1}),
    # A case merged into the one before it: an instance's keys are its own attributes, not earlier links'.
    "an instance with keys": lambda links: [links[0], Link(insert_case, links[0].row, {"merged_into_id": 0})],
}


@pytest.mark.parametrize("refused", REFUSED.values(), ids=REFUSED.keys())
def test_a_chain_whose_keys_cannot_be_taken_is_refused_and_saves_nothing(chain_of, refused):
    counts = [model.objects.count() for model in (Case, Report, Receipt)]
    case, links = chain_of(1)
    with CaptureQueriesContext(connection) as queries, pytest.raises(TypeError, match="link"):
        insert_chain(refused(links))
    assert not queries and [model.objects.count() for model in (Case, Report, Receipt)] == counts
    assert case.pk is None and case._state.adding


def test_a_chain_rolls_back_with_the_transaction_around_it(chain_of):
    case, links = chain_of(1)
    with pytest.raises(RuntimeError), transaction.atomic():
        keys = insert_chain(links)
        assert Receipt.objects.filter(pk=keys[2]).exists()
        raise RuntimeError("a later step of the intake failed")
    assert not Case.objects.filter(reference=case.reference).exists()
    assert not Report.objects.filter(pk=keys[1]).exists() and not Receipt.objects.filter(pk=keys[2]).exists()


def _team_of(organization):
    """Members whose names sort against their keys, one of them scoped to two spaces (two rows of the team's query)
    and one inactive: what intake reads along with its chain."""
    first, second = SpaceFactory(organization=organization), SpaceFactory(organization=organization)
    scoped = member(organization, "responder", display_name="Zed Scoped")
    scoped.spaces.set([first, second])
    member(organization, "lead", display_name="Ann Lead")
    member(organization, "responder", display_name="Émile Away", is_active=False)
    member(organization, "fallback", display_name="Bob Fallback")


@pytest.mark.parametrize("with_team", [True, False], ids=["a team", "no team yet"])
def test_rows_read_along_with_a_chain_are_the_query_s_own_in_its_order(chain_of, with_team):
    case, links = chain_of(1)
    if with_team:
        _team_of(case.organization)
    query, values = team_reading(case.organization)
    expected = query.rows(*values)
    with CaptureQueriesContext(connection) as queries:
        keys, rows = insert_chain(links, reading=(query, values))
    assert rows == expected and len(rows) == (5 if with_team else 0)
    assert len(queries) == (1 if connection.vendor == "postgresql" else len(links) + 1)
    assert keys[0] == case.pk and Receipt.objects.get(pk=keys[2]).report.case_id == keys[0]
    read_along = IntakeAudience(case.organization, rows)
    read_alone = IntakeAudience(case.organization)
    assert [(m, m.user, m.scoped_space_ids) for m in read_along.team] == [
        (m, m.user, m.scoped_space_ids) for m in read_alone.team
    ]


def test_a_read_along_with_a_chain_sees_the_chain_s_rows_only_where_it_runs_after_it(chain_of):
    """PostgreSQL reads in the statement's own snapshot; elsewhere the read is a query after the chain. Intake's read
    (the team) is of rows the chain does not write, where both are the same."""
    case, links = chain_of(1)
    cases_of_organization = PreparedQuery(
        lambda organization_id: Case.objects.filter(organization_id=organization_id).values_list("pk"), int
    )
    keys, rows = insert_chain(links, reading=(cases_of_organization, (case.organization_id,)))
    assert rows == ([] if connection.vendor == "postgresql" else [(keys[0],)])
