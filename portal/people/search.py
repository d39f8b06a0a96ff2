"""What staff type into *Search*, read as a name, an email or a phone number typed any way.

"(201) 555-0101", "2015550101" and "+1 201 555 0101" find the number; "0101" (four digits)
or "555-0101" find every number ending in it; "+1 201" or "201555" find numbers starting that
way; an address with "@" (or its beginning) finds emails; anything else is the beginning of a
first name, a last name, or "first last".
"""

from __future__ import annotations

import dataclasses
import re

from portal import phones
from portal.consent.rules import STAFF_FILTERS

PAGE_SIZE = 50


@dataclasses.dataclass(frozen=True)
class Criteria:
    """A search as the database query takes it: at most one of the text fields is set."""

    phone: str | None = None  # a whole number, E.164
    phone_prefix: str | None = None  # the beginning of an E.164 number
    last4: str | None = None
    phone_suffix: str | None = None  # the end of a number ("555-0103"), with its last4
    email_prefix: str | None = None
    name_prefix: str | None = None
    full_name: tuple[str, str] | None = None  # ("first", "last") beginnings
    status: str | None = None  # one of consent.rules.STAFF_FILTERS
    family_id: int | None = None
    include_archived: bool = False

    @property
    def text_given(self) -> bool:
        return any(
            (self.phone, self.phone_prefix, self.last4, self.email_prefix, self.name_prefix)
        ) or bool(self.full_name)


def read(
    text: str = "",
    *,
    status: str = "",
    family_id: int | None = None,
    include_archived: bool = False,
) -> Criteria:
    """The criteria for what was typed. An unknown status is ignored, never an error."""
    text = " ".join(text.split())[:100]
    common = {
        "status": status if status in STAFF_FILTERS else None,
        "family_id": family_id,
        "include_archived": include_archived,
    }
    if not text:
        return Criteria(**common)
    if "@" in text:
        return Criteria(email_prefix=text.lower(), **common)
    digits = re.sub(r"\D", "", text)
    looks_like_number = digits and not re.search(r"[^\d\s()+.\-]", text)
    if looks_like_number:
        whole = phones.valid_or_none(text)
        if whole:
            return Criteria(phone=whole, **common)
        if len(digits) == 4 and not text.startswith("+"):
            return Criteria(last4=digits, **common)
        if 4 < len(digits) <= 7 and not text.startswith("+"):
            # A local number without its area code ("555-0103"): the end of the number.
            return Criteria(last4=digits[-4:], phone_suffix=digits, **common)
        # The beginning of a number: with its country code if typed with +, else a US one.
        prefix = "+" + digits if text.startswith("+") or digits.startswith("1") else "+1" + digits
        return Criteria(phone_prefix=prefix, **common)
    words = text.lower().split(" ")
    if len(words) >= 2:
        return Criteria(full_name=(words[0], " ".join(words[1:])), **common)
    return Criteria(name_prefix=words[0], **common)


def cursor_of(row) -> str:
    """The keyset position after a row, for the next page's link."""
    return f"{row.sort_last}\x1f{row.sort_first}\x1f{row.id}"


def read_cursor(value: str) -> tuple[str, str, int] | None:
    """A position from a link, or None when it is missing or has been tampered with."""
    parts = value.split("\x1f")
    if len(parts) != 3 or not parts[2].isdigit() or len(parts[2]) > 18:
        return None
    return parts[0], parts[1], int(parts[2])
