"""Checks shared by every way people's details arrive: forms, roster imports."""

from __future__ import annotations

import unicodedata

from email_validator import EmailNotValidError, validate_email

from portal.i18n.catalogs import mark

MAX_NAME = 80


def name_problem(name: str) -> str | None:
    """Why a name is refused, in words for a form; None when it is fine."""
    if not name:
        return mark("Enter a name.")
    if len(name) > MAX_NAME:
        return f"Use at most {MAX_NAME} characters."
    # Line breaks and other control characters would break email headers and exports.
    if has_control_characters(name):
        return mark("A name cannot contain line breaks or control characters.")
    return None


def has_control_characters(text: str) -> bool:
    """Control and invisible formatting characters (a NUL, an escape sequence, a right-to-left
    override) have no place in a name or in words sent to people's phones."""
    return any(unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} for ch in text)


def normalize_email(text: str) -> str:
    """The normalized address, or ValueError with the reason."""
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"That email address is not valid: {exc}") from exc
