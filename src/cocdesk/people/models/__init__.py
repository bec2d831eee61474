from .person import CaseParty, Identifier, MemberIdentifier, Person, RegistryKey

__all__ = ["CaseParty", "Identifier", "MemberIdentifier", "Person", "RegistryKey"]
