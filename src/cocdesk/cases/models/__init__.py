from .attachment import Attachment, SetAsideMail
from .case import Case
from .recusal import Recusal
from .report import Message, Receipt, Report
from .work import DeadlineAlert, ImmediateAction, Note

__all__ = [
    "Attachment",
    "Case",
    "DeadlineAlert",
    "ImmediateAction",
    "Message",
    "Note",
    "Receipt",
    "Recusal",
    "Report",
    "SetAsideMail",
]
