from .membership import Membership
from .organization import Organization, Space

__all__ = ["Membership", "Organization", "Space"]
