"""The CSRF token of the public report form, as ``django.middleware.csrf.get_token`` makes it, with cheaper
randomness.

Django draws each of the 64 characters of a new cookie secret and of its mask with its own ``secrets.choice``: 64
reads of the system's random source and 64 rounds of Python for every first visit. On the report form, the page
a burst of reporters opens, that was a twentieth of the server's work per report. Here each string of 32 characters
comes from one read: each byte below 248 (four times 62) picks one of the 62 characters, so every character is
equally likely, as with Django's draws. The token is Django's own in every other respect (a mask, then the secret
shifted by it, over ``CSRF_ALLOWED_CHARS``) and Django's middleware checks it and sets the cookie.
"""

import secrets

from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH

_USABLE_BYTES = 256 - 256 % len(CSRF_ALLOWED_CHARS)
_POSITION = {char: at for at, char in enumerate(CSRF_ALLOWED_CHARS)}


def _random_positions(length):
    """``length`` positions in ``CSRF_ALLOWED_CHARS``, drawn uniformly and independently."""
    drawn = []
    while len(drawn) < length:
        # Two bytes a position: fewer than a sixteenth are refused, so one read nearly always suffices.
        drawn += [byte % len(CSRF_ALLOWED_CHARS) for byte in secrets.token_bytes(2 * length) if byte < _USABLE_BYTES]
    return drawn[:length]


def random_text(length):
    """``length`` characters drawn uniformly and independently from ``CSRF_ALLOWED_CHARS``."""
    return "".join([CSRF_ALLOWED_CHARS[at] for at in _random_positions(length)])


def form_token(request):
    """What ``get_token(request)`` returns: the masked token of the request's CSRF secret, a new secret when the
    visitor has none, and the cookie sent (renewed) with the response."""
    secret = request.META.get("CSRF_COOKIE")
    if secret is None:
        secret = request.META["CSRF_COOKIE"] = random_text(CSRF_SECRET_LENGTH)
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    chars, mask = CSRF_ALLOWED_CHARS, _random_positions(CSRF_SECRET_LENGTH)
    cipher = [chars[(_POSITION[char] + at) % len(chars)] for char, at in zip(secret, mask, strict=True)]
    return "".join([chars[at] for at in mask] + cipher)
