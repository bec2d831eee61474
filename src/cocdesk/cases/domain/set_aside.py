"""Looking at mail that could not become a report: reading it is audited, and a lead marks it handled."""

from django.utils import timezone

from cocdesk.common import audit

from .email_intake import set_aside_raw


def read_set_aside(mail, *, by):
    audit.record("mail.set_aside_read", actor=by, organization=mail.organization, set_aside=mail.pk)
    return set_aside_raw(mail)


def mark_handled(mail, *, by):
    mail.handled_at = timezone.now()
    mail.save(update_fields=["handled_at"])
    audit.record("mail.set_aside_handled", actor=by, organization=mail.organization, set_aside=mail.pk)
    return mail
