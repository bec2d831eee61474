"""Model instances from prepared statements are the ORM's own: the same rows, fields and related objects, with no
query left for what the queryset selected; what it cannot prepare it refuses."""

import pytest

from cocdesk.cases.models import Message, Report
from cocdesk.common.prepared_objects import PreparedObjects, set_prefetched
from tests.factories import OrganizationFactory, report_case

pytestmark = pytest.mark.django_db

_reports = PreparedObjects(
    lambda case_id: Report.objects.filter(case_id=case_id).select_related("case", "receipt").order_by("pk"), int
)


def _fields(instance):
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields}


def test_instances_equal_the_orms(django_assert_num_queries):
    organization = OrganizationFactory()
    case, _receipt = report_case(organization)
    report_case(organization)  # another case's report stays out
    expected = list(Report.objects.filter(case_id=case.pk).select_related("case", "receipt").order_by("pk"))
    with django_assert_num_queries(1):
        found = _reports.objects(case.pk)
        assert [_fields(report) for report in found] == [_fields(report) for report in expected]
        assert [_fields(report.case) for report in found] == [_fields(report.case) for report in expected]
        assert [report.receipt.pk for report in found] == [report.receipt.pk for report in expected]
    assert not found[0]._state.adding and found[0]._state.db == "default"


def test_first_and_none():
    organization = OrganizationFactory()
    case, _receipt = report_case(organization)
    first = PreparedObjects(lambda case_id: Report.objects.filter(case_id=case_id).order_by("pk")[:1], int)
    assert first.first(case.pk).case_id == case.pk
    assert first.first(-1) is None


@pytest.mark.parametrize(
    "build",
    [
        lambda case_id: Report.objects.filter(case_id=case_id).prefetch_related("messages"),
        lambda case_id: Report.objects.filter(case_id=case_id).values("pk"),
    ],
    ids=["prefetch", "values"],
)
def test_refuses_what_it_cannot_prepare(build):
    organization = OrganizationFactory()
    case, _receipt = report_case(organization)
    with pytest.raises(ValueError, match="plain queryset"):
        PreparedObjects(build, int).objects(case.pk)


def test_set_prefetched_answers_without_a_query(django_assert_num_queries):
    organization = OrganizationFactory()
    case, _receipt = report_case(organization)
    report = Report.objects.get(case=case)
    set_prefetched(report, "messages", [])
    with django_assert_num_queries(0):
        assert list(report.messages.all()) == []
    assert Message.objects.filter(report=report).count() == 0
