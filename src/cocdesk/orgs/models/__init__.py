from .conflict_contact import ConflictContact
from .membership import Membership
from .organization import Organization, Space
from .template import MessageTemplate, template_text

__all__ = ["ConflictContact", "Membership", "MessageTemplate", "Organization", "Space", "template_text"]
