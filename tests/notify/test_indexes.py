"""A report writes a notice per member, so notices are indexed only for the look-ups that read them back: the mail
a reporter answers or that bounced (by Message-ID, among notices to reporters), and the notice of mail set aside (by
organization). Both databases use those indexes for those look-ups."""

import pytest

from cocdesk.cases.domain.set_aside import NOTICE_KIND
from cocdesk.notify.models import Notification
from tests.factories import OrganizationFactory


@pytest.mark.django_db
def test_the_look_ups_of_notices_use_their_partial_indexes():
    organization = OrganizationFactory()
    by_message_id = Notification.objects.filter(report__isnull=False, message_id__in=["<a@example.org>", "b@x"])
    set_aside = Notification.objects.filter(organization=organization, kind=NOTICE_KIND)
    assert "notification_reporter_mail" in by_message_id.values_list("report_id").explain()
    assert "notification_set_aside_notice" in set_aside.filter(state=Notification.State.PENDING).explain()
    assert "notification_set_aside_notice" in set_aside.order_by().values("pk").explain()


def test_a_notice_to_a_member_takes_no_entry_in_those_indexes():
    indexed = {index.name: index.condition for index in Notification._meta.indexes}
    assert set(indexed) >= {"notification_reporter_mail", "notification_set_aside_notice"}
    assert not Notification._meta.get_field("recipient").db_index
    assert not Notification._meta.get_field("organization").db_index
    assert not Notification._meta.get_field("message_id").db_index
