from .case import Case
from .recusal import Recusal
from .report import Message, Receipt, Report

__all__ = ["Case", "Message", "Receipt", "Recusal", "Report"]
