"""Cell phone numbers: parsed and stored as E.164 with `phonenumbers`, shown masked."""

from __future__ import annotations

import phonenumbers

from portal.i18n.catalogs import mark

DEFAULT_REGION = "US"


class InvalidPhone(ValueError):
    """The text is not a valid mobile-capable phone number."""


def normalize(text: str, region: str = DEFAULT_REGION, *, mobile_only: bool = True) -> str:
    """Return the E.164 form of a number a person typed, or raise InvalidPhone. A person's
    cell phone must be able to receive texts; the organization's own sending number (a long
    code or a toll-free number) need not be a mobile one (`mobile_only=False`)."""
    text = (text or "").strip()
    if not text:
        raise InvalidPhone(mark("Enter a cell phone number."))
    if len(text) > 40:
        raise InvalidPhone(mark("That phone number is too long."))
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(mark("That does not look like a phone number.")) from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(mark("That phone number is not valid. Include the area code."))
    kind = phonenumbers.number_type(number)
    if mobile_only and kind not in {
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    }:
        raise InvalidPhone(mark("That number cannot receive text messages. Enter a cell phone."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def valid_or_none(text: str) -> str | None:
    """E.164 for a whole, valid number of any kind typed by staff; None for anything else
    (a part of a number, like "555-0103", is not a number)."""
    try:
        return normalize(text, mobile_only=False)
    except InvalidPhone:
        return None


def try_normalize(text: str) -> str | None:
    """E.164 for numbers that arrive from machines (webhooks); None when unreadable."""
    try:
        number = phonenumbers.parse((text or "").strip(), DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask(e164: str | None) -> str:
    """•••-•••-1234: enough for a person to recognise their number, not enough to text it."""
    if not e164:
        return ""
    return "•••-•••-" + e164[-4:]


def display(e164: str | None) -> str:
    """A number in the national form people read, e.g. (201) 555-0123."""
    if not e164:
        return ""
    number = phonenumbers.parse(e164, None)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
