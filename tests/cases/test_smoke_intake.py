from cocdesk.cases.domain import content
from cocdesk.cases.models import Case
from tests.factories import report_case


def test_report_is_sealed_and_readable(organization):
    case, receipt = report_case(organization, reporter_name="Alex")
    stored = Case.objects.get(pk=case.pk)
    assert content.report_content(stored.reports.get())["reporter_name"] == "Alex"
    assert len(receipt.replace("-", "")) == 32
