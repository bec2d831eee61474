import base64
import hashlib
import secrets

# No 0/O, 1/I/L or U: references are read aloud and copied by hand.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
RECEIPT_BYTES = 20  # 160 bits; the procedures' promise of a private follow-up rests on it being unguessable


REFERENCE_SYMBOLS = 12
_REFERENCES = len(REFERENCE_ALPHABET) ** REFERENCE_SYMBOLS


def new_reference():
    """A random case reference like 'K7QM-4XPD-2R9H': 12 symbols, about 59 bits, never sequential. One number drawn
    uniformly below 30**12, written in the alphabet's 30 symbols: the same references, equally likely, as drawing each
    symbol on its own, for one draw from the system's source instead of twelve."""
    number = secrets.randbelow(_REFERENCES)
    symbols = []
    for _ in range(REFERENCE_SYMBOLS):
        number, at = divmod(number, len(REFERENCE_ALPHABET))
        symbols.append(REFERENCE_ALPHABET[at])
    return "-".join("".join(symbols[i : i + 4]) for i in range(0, REFERENCE_SYMBOLS, 4))


def new_receipt():
    """A receipt secret in groups of four, as shown to the reporter once."""
    symbols = base64.b32encode(secrets.token_bytes(RECEIPT_BYTES)).decode().rstrip("=")
    return "-".join(symbols[i : i + 4] for i in range(0, len(symbols), 4))


def normalise_receipt(typed):
    return "".join(typed.upper().split()).replace("-", "")


def receipt_digest(typed):
    return hashlib.sha256(normalise_receipt(typed).encode()).hexdigest()


def submission_digest(token):
    return hashlib.sha256(f"submission:{token}".encode()).hexdigest()
