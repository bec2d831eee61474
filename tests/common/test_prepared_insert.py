"""Prepared inserts save what the ORM saves: the same rows, each column prepared and defaulted alike."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cocdesk.cases.models import Case
from cocdesk.common.models import AuditEvent
from cocdesk.common.prepared_insert import PreparedInsert
from cocdesk.notify.models import Notification
from cocdesk.orgs.models import Space
from tests.factories import OrganizationFactory, member, report_case


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


def test_on_postgresql_rows_go_as_one_array_per_column_in_one_prepared_statement_whatever_their_number(
    postgresql, prepared_statements
):
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
    statements = [text for text in prepared_statements() if "notify_notification" in text]
    assert len(statements) == 1 and "UNNEST" in statements[0]
    (one,) = insert.insert_values([{**common, "body": "one"}])
    assert Notification.objects.get(pk=one).body == "one"
    assert len([text for text in prepared_statements() if "notify_notification" in text]) == 2


@pytest.mark.django_db
def test_a_value_saved_unchanged_is_what_its_field_would_have_prepared():
    from django.apps import apps

    from cocdesk.common.prepared_values import saved_unchanged

    samples = {str: ["", "text", "é ✓"], bool: [True, False], int: [0, 7, 2**40], type(None): [None]}
    checked = 0
    for model in apps.get_models():
        for field in model._meta.local_concrete_fields:
            for kind in saved_unchanged(field, connection):
                for value in samples[kind]:
                    prepared = field.get_db_prep_save(value, connection)
                    assert prepared == value and type(prepared) is type(value), (model, field.name, value)
                    checked += 1
    assert checked > 100


def _notice(case, kind):
    return {
        "organization_id": case.organization_id,
        "case_id": case.pk,
        "kind": kind,
        "subject": f"About {case.reference}",
        "body": f"A {kind} notice.",
        "next_attempt_at": timezone.now(),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("team_size", [1, 7])
def test_rows_fanned_over_a_column_are_saved_as_one_row_each_would_be_in_one_statement(team_size):
    case, _receipt = report_case(OrganizationFactory())
    team = [member(case.organization, "responder").user.pk for _ in range(team_size)]
    before = timezone.now()
    with CaptureQueriesContext(connection) as queries:
        ids = PreparedInsert(Notification).insert_fanned(
            [(_notice(case, "new_report"), team), (_notice(case, "urgent_page"), team[:1])], "recipient_id"
        )
    assert len(queries) == 1 and len(ids) == len(set(ids)) == team_size + 1
    stored = Notification.objects.filter(pk__in=ids)
    assert sorted(stored.values_list("kind", "recipient_id", "body")) == sorted(
        [("new_report", pk, "A new_report notice.") for pk in team]
        + [("urgent_page", team[0], "A urgent_page notice.")]
    )
    for notice in stored:
        # Left out: each field's default, and one time of the call for auto_now_add, as insert_values gives.
        assert (notice.channel, notice.state, notice.attempts, notice.last_error) == ("email", "pending", 0, "")
        assert notice.case_id == case.pk and notice.subject == f"About {case.reference}" and notice.sent_at is None
        assert before <= notice.created_at <= timezone.now() and notice.report_id is None
    assert len({notice.created_at for notice in stored}) == 1


@pytest.mark.django_db
def test_a_group_without_values_saves_nothing_and_no_group_asks_nothing():
    case, _receipt = report_case(OrganizationFactory())
    someone = member(case.organization, "lead").user.pk
    insert = PreparedInsert(Notification)
    with CaptureQueriesContext(connection) as queries:
        assert insert.insert_fanned([(_notice(case, "none"), [])], "recipient_id") == []
        assert insert.insert_fanned([], "recipient_id") == []
    assert not queries
    (pk,) = insert.insert_fanned([(_notice(case, "none"), []), (_notice(case, "one"), [someone])], "recipient_id")
    assert Notification.objects.get(pk=pk).kind == "one"
    assert not Notification.objects.filter(kind="none").exists()


@pytest.mark.django_db
def test_a_fan_that_cannot_give_every_row_its_values_is_refused_and_saves_nothing():
    case, _receipt = report_case(OrganizationFactory())
    someone = member(case.organization, "lead").user.pk
    insert = PreparedInsert(Notification)
    notice = _notice(case, "refused")
    with pytest.raises(TypeError, match="not among the shared"):
        insert.insert_fanned([({**notice, "recipient_id": someone}, [someone])], "recipient_id")
    with pytest.raises(TypeError, match="must be a column"):
        insert.insert_fanned([(notice, [someone])], "recipient")
    # next_attempt_at defaults to the time of each save: one call would stand for every row.
    without_time = {key: value for key, value in notice.items() if key != "next_attempt_at"}
    with pytest.raises(TypeError, match="next_attempt_at"):
        insert.insert_fanned([(without_time, [someone])], "recipient_id")
    assert not Notification.objects.filter(kind="refused").exists()


@pytest.mark.django_db
def test_times_fan_out_as_their_field_prepares_them_and_sqlite_refuses_what_json_cannot_carry():
    from cocdesk.cases.models import Recusal

    case, _receipt = report_case(OrganizationFactory())
    notice = {key: value for key, value in _notice(case, "timed").items() if key != "next_attempt_at"}
    times = [timezone.now() - timezone.timedelta(hours=hours) for hours in (1, 2)]
    ids = PreparedInsert(Notification).insert_fanned([(notice, times)], "next_attempt_at")
    assert sorted(Notification.objects.filter(pk__in=ids).values_list("next_attempt_at", flat=True)) == sorted(times)
    if connection.vendor == "sqlite":
        recusal = {"case_id": case.pk, "membership_id": member(case.organization, "lead").pk}
        with pytest.raises(TypeError, match="integers and text"):
            PreparedInsert(Recusal).insert_fanned([(recusal, [b"sealed", b"notes"])], "sealed_note")
        assert not Recusal.objects.filter(case=case).exists()


def test_on_postgresql_a_fan_is_one_prepared_statement_whatever_the_number_of_rows(postgresql, prepared_statements):
    case, _receipt = report_case(OrganizationFactory())
    team = [member(case.organization, "responder").user.pk for _ in range(4)]
    insert = PreparedInsert(Notification)
    for size in (1, 4):
        ids = insert.insert_fanned([(_notice(case, f"fan {size}"), team[:size])], "recipient_id")
        assert Notification.objects.filter(pk__in=ids, kind=f"fan {size}").count() == size
    statements = [text for text in prepared_statements() if "notify_notification" in text]
    assert len(statements) == 1 and "UNNEST" in statements[0]


@pytest.mark.django_db
@pytest.mark.parametrize("count", [0, 1, 3])
def test_a_change_along_an_insert_is_made_with_it_in_one_statement_on_postgresql(count):
    from cocdesk.common.prepared import PreparedQuery, update_query

    organization = OrganizationFactory()
    space = Space.objects.create(organization=organization, name="Before")
    rename = PreparedQuery(lambda pk, name: update_query(Space.objects.filter(pk=pk), name=name), int, str)
    rows = [{"organization_id": organization.pk, "name": f"New {n}"} for n in range(count)]
    with CaptureQueriesContext(connection) as queries:
        keys = PreparedInsert(Space).insert_values(rows, along=(rename, (space.pk, "After")))
    assert Space.objects.get(pk=space.pk).name == "After"
    inserted = Space.objects.filter(pk__in=keys).values_list("name", flat=True)
    assert sorted(inserted) == [f"New {n}" for n in range(count)]
    if connection.vendor == "postgresql" and count:
        assert len(queries) == 1 and queries[0]["sql"].startswith("WITH along AS (UPDATE")
    else:
        assert len(queries) == (2 if count else 1)
