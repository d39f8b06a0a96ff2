"""The languages the portal speaks, and checking a language code someone sent."""

from __future__ import annotations

ENGLISH = "en"
SPANISH = "es"
DEFAULT = ENGLISH
# Each language's name in itself: the switch and the Language select show these.
NAMES = {ENGLISH: "English", SPANISH: "Español"}
SUPPORTED = tuple(NAMES)


class UnknownLanguage(ValueError):
    """A code that is none of SUPPORTED (a tampered form, a stale cookie)."""


def checked(code: str) -> str:
    """The code itself when the portal speaks it; UnknownLanguage otherwise."""
    if code not in NAMES:
        raise UnknownLanguage(code)
    return code
