"""A case one may not see and a case that does not exist answer alike, byte for byte, in production and in
development mode: the existence of a case is itself confidential."""

import pytest
from django.test import Client, override_settings

from tests.factories import OrganizationFactory, member, report_case
from tests.team import log_in

MISSING = "ZZZZ-ZZZZ-ZZZZ"


@pytest.mark.parametrize("debug", [False, True], ids=["production", "development"])
@pytest.mark.parametrize("suffix", ["", "recuse-me/", "messages/"])
def test_denied_and_missing_cases_answer_byte_for_byte_alike(organization, debug, suffix):
    outsider = member(OrganizationFactory(), "lead")
    case, _receipt = report_case(organization, description="Someone else's case.")
    client = log_in(Client(raise_request_exception=False), outsider.user)
    with override_settings(DEBUG=debug):
        denied = client.get(f"/desk/cases/{case.reference}/{suffix}")
        missing = client.get(f"/desk/cases/{MISSING}/{suffix}")
    assert denied.status_code == missing.status_code == 404
    assert denied.content.replace(case.reference.encode(), MISSING.encode()) == missing.content
