"""Delivery reports (bounces): which of our mails did not reach their recipient.

A bounce (RFC 3464, RFC 6533 for internationalised mail) is a multipart/report with report-type=delivery-status:
a message/delivery-status part says per recipient what happened (Action: failed, delayed, delivered...), and a
message/rfc822 or text/rfc822-headers part returns the original mail or its headers. ``bounce_of`` reads the
Message-IDs of that original, so the intake can find the notice that bounced and mark its address
undeliverable. Pure functions, no database; nothing here raises.
"""

import email
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesHeaderParser

from .email_headers import clean_address, message_ids_in, raw_values, thread_ids

REPORT_TYPES = {"delivery-status", "global-delivery-status"}
STATUS_PARTS = {"message/delivery-status", "message/global-delivery-status"}
RETURNED_MESSAGE_PARTS = {"message/rfc822", "message/global"}
RETURNED_HEADER_PARTS = {"text/rfc822-headers", "message/global-headers"}


@dataclass
class DeliveryReport:
    # The returned mail's own Message-ID first, then the ids it answered (its In-Reply-To and References).
    message_ids: list = field(default_factory=list)
    # Lower-cased addresses the report is about (Final-Recipient, else Original-Recipient).
    recipients: list = field(default_factory=list)
    # True when delivery failed for good (Action: failed, or a 5.x.x status), or when the report says nothing
    # readable per recipient; False for a delay or a success notice, which are no reason to stop writing.
    failed: bool = True


def bounce_of(raw):
    """The DeliveryReport of a raw mail, or None when it is not a delivery report."""
    try:
        return delivery_report_for(email.message_from_bytes(bytes(raw), policy=policy.default))
    except Exception:  # not readable as a mail: not a report we can act on
        return None


def delivery_report_for(message):
    """The DeliveryReport of a parsed mail, or None when it is not a delivery report."""
    try:
        return _report(message)
    except Exception:  # a report too broken to read: treat the mail as an ordinary one
        return None


def _report(message):
    parts = list(message.walk())
    declared = message.get_content_type() == "multipart/report" and _report_type(message) in REPORT_TYPES
    statuses = [part for part in parts if part.get_content_type() in STATUS_PARTS]
    if not declared and not statuses:
        return None
    rows = [_recipient_row(block) for part in statuses for block in _status_blocks(part)]
    rows = [row for row in rows if any(row)]
    return DeliveryReport(
        message_ids=_returned_ids(parts),
        recipients=list(dict.fromkeys(address for address, _action, _status in rows if address)),
        failed=not rows or any(action == "failed" or status.startswith("5") for _address, action, status in rows),
    )


def _report_type(message):
    value = message.get_param("report-type", failobj="")
    if isinstance(value, tuple):  # RFC 2231 form: (charset, language, value)
        value = value[-1]
    return str(value).strip().lower()


def _status_blocks(part):
    """The field blocks of a delivery-status part: the per-message block, then one per recipient."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return payload
    data = part.get_payload(decode=True) or b""
    blocks = data.replace(b"\r\n", b"\n").split(b"\n\n")
    return [BytesHeaderParser(policy=policy.default).parsebytes(block) for block in blocks if block.strip()]


def _recipient_row(block):
    """(address, action, status) of one per-recipient block; empty strings for what it does not say."""
    recipients = raw_values(block, "Final-Recipient") or raw_values(block, "Original-Recipient")
    address = clean_address(recipients[0].rpartition(";")[2]).lower() if recipients else ""
    action = next(iter(" ".join(raw_values(block, "Action")[:1]).lower().split()), "")  # "failed (...)"
    status = " ".join(raw_values(block, "Status")[:1]).strip()
    return address, action, status


def _returned_ids(parts):
    for part in parts:
        content_type = part.get_content_type()
        if content_type in RETURNED_MESSAGE_PARTS:
            returned = part.get_payload()
            returned = returned[0] if isinstance(returned, list) and returned else returned
        elif content_type in RETURNED_HEADER_PARTS:
            returned = BytesHeaderParser(policy=policy.default).parsebytes(part.get_payload(decode=True) or b"")
        else:
            continue
        if hasattr(returned, "raw_items"):
            return list(dict.fromkeys([*message_ids_in(returned, "Message-ID"), *thread_ids(returned)]))
    return []
