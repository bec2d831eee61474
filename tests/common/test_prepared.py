"""Prepared statements give what the ORM gives: the same rows (converted alike), the same saved objects."""

import pytest
from django.utils import timezone

from cocdesk.cases.models import Case
from cocdesk.common.models import AuditEvent
from cocdesk.common.prepared import PreparedInsert, PreparedQuery, field_names, update_query
from cocdesk.orgs.models import Organization, Space
from tests.factories import OrganizationFactory, SpaceFactory, report_case

ORGANIZATION_FIELDS = field_names(Organization)
by_slug = PreparedQuery(lambda slug: Organization.objects.filter(slug=slug).values_list(*ORGANIZATION_FIELDS), str)
active_spaces = PreparedQuery(
    lambda organization_id: (
        Space.objects.filter(organization_id=organization_id, is_active=True)
        .order_by("pk")
        .values_list("pk", "name", "is_active", "created_at")
    ),
    int,
)
rename_space = PreparedQuery(lambda pk, name: update_query(Space.objects.filter(pk=pk), name=name), int, str)


@pytest.mark.django_db
def test_rows_are_those_of_values_list_for_each_call_s_values():
    first, second = OrganizationFactory(), OrganizationFactory()
    for organization in (first, second, first):
        (row,) = by_slug.rows(organization.slug)
        assert row == Organization.objects.filter(pk=organization.pk).values_list(*ORGANIZATION_FIELDS).get()
        assert Organization.from_db("default", ORGANIZATION_FIELDS, row) == organization
    assert by_slug.rows("no-such-organization") == []


@pytest.mark.django_db
def test_converters_apply_as_in_the_orm():
    organization = OrganizationFactory()
    SpaceFactory(organization=organization, name="Hall A")
    SpaceFactory(organization=organization, name="Gone", is_active=False)
    rows = active_spaces.rows(organization.pk)
    expected = list(
        Space.objects.filter(organization=organization, is_active=True)
        .order_by("pk")
        .values_list("pk", "name", "is_active", "created_at")
    )
    assert rows == expected
    (_pk, _name, is_active, created_at) = rows[0]
    assert is_active is True and timezone.is_aware(created_at)


@pytest.mark.django_db
def test_an_update_changes_only_its_row():
    organization = OrganizationFactory()
    kept, renamed = SpaceFactory(organization=organization), SpaceFactory(organization=organization)
    assert rename_space.execute(renamed.pk, "New name") == 1
    renamed.refresh_from_db()
    assert renamed.name == "New name"
    assert Space.objects.get(pk=kept.pk).name == kept.name


def test_a_value_that_is_not_a_parameter_is_refused():
    ignoring = PreparedQuery(lambda slug: Organization.objects.values_list("pk"), str)
    with pytest.raises(ValueError, match="not parameters"):
        ignoring.rows("anything")


@pytest.mark.django_db
def test_an_insert_saves_rows_as_bulk_create_does():
    case, _receipt = report_case(OrganizationFactory())
    events = [
        AuditEvent(action=f"test.event{n}", case=case, organization_id=case.organization_id, detail={"n": n})
        for n in range(3)
    ]
    for number, event in enumerate(events):
        event.created_at = timezone.now()
        event.previous_hash, event.hash = f"{number:064x}", f"{number + 1:064x}"
    saved = PreparedInsert(AuditEvent).insert(events)
    assert [event.pk for event in saved] == sorted(event.pk for event in saved)
    assert all(not event._state.adding for event in saved)
    stored = AuditEvent.objects.filter(pk__in=[event.pk for event in saved]).order_by("pk")
    assert [(event.action, event.detail, event.case_id) for event in stored] == [
        (f"test.event{n}", {"n": n}, case.pk) for n in range(3)
    ]
    assert PreparedInsert(Case).insert([]) == []


@pytest.mark.django_db
def test_an_insert_fills_what_the_fields_fill_on_saving():
    organization = OrganizationFactory()
    spaces = PreparedInsert(Space).insert(Space(organization=organization, name=f"Room {n}") for n in range(2))
    for space in spaces:
        stored = Space.objects.get(pk=space.pk)
        assert stored.name == space.name and stored.created_at == space.created_at is not None


@pytest.mark.django_db
def test_rows_of_plain_values_are_saved_as_model_instances_would_be():
    from cocdesk.notify.models import Notification

    case, _receipt = report_case(OrganizationFactory())
    before = timezone.now()
    common = {"organization_id": case.organization_id, "case_id": case.pk, "kind": "test", "subject": "Same subject"}
    ids = PreparedInsert(Notification).insert_values(
        [{**common, "body": f"Body {n}", "recipient_id": None} for n in range(3)]
    )
    assert ids == sorted(ids) and len(set(ids)) == 3
    stored = list(Notification.objects.filter(pk__in=ids).order_by("pk"))
    assert [notice.body for notice in stored] == ["Body 0", "Body 1", "Body 2"]
    for notice in stored:
        # Left out: each field's default, and the time of the call for auto_now_add, as saving an instance gives.
        assert (notice.channel, notice.state, notice.attempts, notice.last_error) == ("email", "pending", 0, "")
        assert notice.case_id == case.pk and notice.subject == "Same subject" and notice.sent_at is None
        assert before <= notice.created_at <= timezone.now() and before <= notice.next_attempt_at <= timezone.now()
    assert len({notice.created_at for notice in stored}) == 1
    assert PreparedInsert(Notification).insert_values([]) == []


@pytest.mark.django_db
def test_rows_of_plain_values_take_json_and_binary_columns_and_refuse_what_is_not_a_value():
    from django.db.models import Value

    case, _receipt = report_case(OrganizationFactory())
    row = {"action": "test.values", "case_id": case.pk, "organization_id": case.organization_id}
    row |= {"created_at": timezone.now(), "previous_hash": "0" * 64, "hash": "1" * 64, "detail": {"n": [1, 2]}}
    (pk,) = PreparedInsert(AuditEvent).insert_values([row])
    assert AuditEvent.objects.get(pk=pk).detail == {"n": [1, 2]}
    with pytest.raises(TypeError, match="no columns"):
        PreparedInsert(AuditEvent).insert_values([{**row, "hash": "2" * 64, "case": case}])
    with pytest.raises(TypeError, match="plain values"):
        PreparedInsert(AuditEvent).insert_values([{**row, "hash": "3" * 64, "action": Value("x")}])
    assert not AuditEvent.objects.filter(hash__in=["2" * 64, "3" * 64]).exists()


@pytest.mark.django_db
def test_a_value_repeated_down_a_column_is_stored_in_every_row():
    organization = OrganizationFactory()
    when = timezone.now() - timezone.timedelta(days=1)
    spaces = [Space(organization=organization, name=f"Hall {n}", kind="conference") for n in range(3)]
    spaces += [Space(organization=organization, name=f"Annex {n}", is_active=False) for n in range(2)]
    for space in spaces:
        space.starts_on = when.date()
    PreparedInsert(Space).insert(spaces)
    stored = list(
        Space.objects.filter(organization=organization).order_by("pk").values_list("name", "is_active", "starts_on")
    )
    assert stored == [(f"Hall {n}", True, when.date()) for n in range(3)] + [
        (f"Annex {n}", False, when.date()) for n in range(2)
    ]


def _prepared_statements_of_session():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall()]


@pytest.fixture
def postgresql(db):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("prepared server-side statements are PostgreSQL's")


def test_on_postgresql_a_prepared_query_is_planned_once_per_connection_and_counted_as_a_query(postgresql):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first, second = OrganizationFactory(), OrganizationFactory()
    with CaptureQueriesContext(connection) as queries:
        assert by_slug.rows(first.slug)[0][0] == first.pk
        assert by_slug.rows(second.slug)[0][0] == second.pk
    assert len(queries) == 2
    # Logged with its values, as Django logs a statement it binds itself.
    assert f"'{first.slug}'" in queries[0]["sql"] and f"'{second.slug}'" in queries[1]["sql"]
    statements = [text for text in _prepared_statements_of_session() if '"orgs_organization"."slug" = $1' in text]
    assert len(statements) == 1


def test_on_postgresql_rows_go_as_one_array_per_column_in_one_prepared_statement_whatever_their_number(postgresql):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cocdesk.notify.models import Notification

    case, _receipt = report_case(OrganizationFactory())
    common = {"organization_id": case.organization_id, "case_id": case.pk, "kind": "test", "subject": "Many"}
    insert = PreparedInsert(Notification)
    with CaptureQueriesContext(connection) as queries:
        many = insert.insert_values([{**common, "body": str(n)} for n in range(300)])
        few = insert.insert_values([{**common, "body": f"few {n}", "recipient_id": None} for n in range(2)])
    assert len(queries) == 2 and all("UNNEST" in query["sql"] for query in queries)
    assert list(Notification.objects.filter(pk__in=many).order_by("pk").values_list("body", flat=True)) == [
        str(n) for n in range(300)
    ]
    assert sorted(many) == many and sorted(few) == few and few[0] > many[-1]
    assert Notification.objects.get(pk=few[1]).body == "few 1"
    statements = [text for text in _prepared_statements_of_session() if "notify_notification" in text]
    assert len(statements) == 1 and "UNNEST" in statements[0]
    (one,) = insert.insert_values([{**common, "body": "one"}])
    assert Notification.objects.get(pk=one).body == "one"
    assert len([text for text in _prepared_statements_of_session() if "notify_notification" in text]) == 2


def test_with_prepared_statements_off_nothing_is_prepared(postgresql, settings):
    settings.COCDESK_PREPARED_STATEMENTS = False
    organization = OrganizationFactory()
    assert by_slug.rows(organization.slug)[0][0] == organization.pk
    assert not [text for text in _prepared_statements_of_session() if '"orgs_organization"."slug" = $1' in text]


@pytest.mark.django_db
def test_a_value_saved_unchanged_is_what_its_field_would_have_prepared():
    from django.apps import apps
    from django.db import connection

    from cocdesk.common.prepared import _saved_unchanged

    samples = {str: ["", "text", "é ✓"], bool: [True, False], int: [0, 7, 2**40], type(None): [None]}
    checked = 0
    for model in apps.get_models():
        for field in model._meta.local_concrete_fields:
            for kind in _saved_unchanged(field, connection):
                for value in samples[kind]:
                    prepared = field.get_db_prep_save(value, connection)
                    assert prepared == value and type(prepared) is type(value), (model, field.name, value)
                    checked += 1
    assert checked > 100
