"""Reading and writing a case's sealed content. Only this module touches the case's data key."""

from cocdesk.common import crypto


def _associated(case, purpose):
    return f"cocdesk:{case.reference}:{purpose}".encode()


def issue_data_key(case):
    case.key_id, case.wrapped_data_key = crypto.new_wrapped_data_key(_associated(case, "data-key"))


def wrap_existing(case, data_key_bytes):
    return crypto.wrap_data_key(data_key_bytes, _associated(case, "data-key"))


def data_key(case):
    cached = getattr(case, "_data_key", None)
    if cached is None:
        cached = crypto.unwrap_data_key(case.key_id, case.wrapped_data_key, _associated(case, "data-key"))
        case._data_key = cached
    return cached


def seal(case, purpose, payload):
    return crypto.seal(data_key(case), payload, _associated(case, purpose))


def unseal(case, purpose, sealed):
    return crypto.unseal(data_key(case), sealed, _associated(case, purpose))


def report_content(report):
    return unseal(report.case, "report", report.sealed_content)


def message_body(message):
    return unseal(message.case, "message", message.sealed_body)["body"]
