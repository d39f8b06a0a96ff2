"""Reading a roster file: the text a spreadsheet saves, and each row checked on its own.

Nothing here touches the database; roster.py matches the rows against the portal and writes
them. Problems are collected as lines for the report, never raised, so one reading lists them
all.
"""

from __future__ import annotations

import csv
import dataclasses
import io

from portal import phones
from portal.validation import name_problem, normalize_email

IMPORT_COLUMNS = (
    "family",
    "kind",
    "first_name",
    "last_name",
    "email",
    "cell_phone",
    "texting",
    "consent_note",
)
REQUIRED_COLUMNS = IMPORT_COLUMNS[:4]


class RosterRefused(Exception):
    """The file as a whole cannot be read: the message says what to do about it."""


def decode(data: bytes) -> str:
    """Text from what a spreadsheet saves as CSV: UTF-8 (with or without a BOM), or the
    Windows-1252 that Excel writes as plain 'CSV'. Anything else is refused, not guessed."""
    if b"\x00" in data[:4096]:
        raise RosterRefused(
            "This is not a CSV file (it looks like a spreadsheet or another binary file)."
            " In your spreadsheet, choose Save As, then 'CSV UTF-8'."
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise RosterRefused(
            "The file's text is neither UTF-8 nor Windows-1252. In your spreadsheet, choose"
            " Save As, then 'CSV UTF-8'."
        ) from None


@dataclasses.dataclass(frozen=True)
class RosterRow:
    line: int
    family: str
    kind: str
    first_name: str
    last_name: str
    email: str | None
    cell_phone: str | None
    texting: str  # "yes", "no" or "" (leave consent alone)
    note: str

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Who the row is: the same family, kind and names are the same person."""
        return (self.family.casefold(), self.kind, *(n.casefold() for n in self.names))

    @property
    def names(self) -> tuple[str, str]:
        return self.first_name, self.last_name

    def same_details(self, other: RosterRow) -> bool:
        return dataclasses.replace(self, line=0) == dataclasses.replace(other, line=0)


def parse(text: str, errors: list[str]) -> list[RosterRow]:
    """Every row checked on its own; problems are collected, never raised."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    headers = [(name or "").strip().lower() for name in (reader.fieldnames or [])]
    missing = [name for name in REQUIRED_COLUMNS if name not in headers]
    if missing:
        errors.append(f"missing columns: {', '.join(missing)}")
        return []
    reader.fieldnames = headers
    rows: list[RosterRow] = []
    for line, raw in enumerate(reader, start=2):
        row, problems = _check_row(line, raw)
        if problems:
            errors.append(f"line {line}: " + "; ".join(problems))
        elif row is not None:
            rows.append(row)
    return rows


def _check_row(line: int, raw: dict) -> tuple[RosterRow | None, list[str]]:
    def get(key: str) -> str:
        value = raw.get(key)
        return value.strip() if isinstance(value, str) else ""

    if not any(get(key) for key in IMPORT_COLUMNS):
        return None, []  # a blank line in the spreadsheet
    problems = []
    kind = get("kind").lower()
    if kind not in ("contact", "student"):
        problems.append("kind must be contact or student")
    for key in ("family", "first_name", "last_name"):
        if problem := name_problem(get(key)):
            problems.append(f"{key}: {problem}")
    email = phone = None
    if get("email"):
        try:
            email = normalize_email(get("email"))
        except ValueError as exc:
            problems.append(f"email: {exc}")
    if get("cell_phone"):
        try:
            phone = phones.normalize(get("cell_phone"))
        except phones.InvalidPhone as exc:
            problems.append(f"cell_phone: {exc}")
    texting = get("texting").lower()
    if texting not in ("", "yes", "no"):
        problems.append("texting must be yes, no or empty")
    if texting and not get("cell_phone"):
        problems.append("texting needs a cell_phone")
    if texting == "yes" and not get("consent_note"):
        problems.append("texting yes needs a consent_note saying how they agreed")
    row = RosterRow(
        line,
        get("family"),
        kind,
        get("first_name"),
        get("last_name"),
        email,
        phone,
        texting,
        get("consent_note"),
    )
    return row, problems


def merge_repeats(rows: list[RosterRow], errors: list[str], repeated: list[str]) -> list[RosterRow]:
    """A row repeated exactly is one person, imported once; the same person twice with
    different details is an error, since the file does not say which is right."""
    first_by_key: dict[tuple, RosterRow] = {}
    unique = []
    for row in rows:
        earlier = first_by_key.get(row.key)
        if earlier is None:
            first_by_key[row.key] = row
            unique.append(row)
        elif row.same_details(earlier):
            repeated.append(f"line {row.line} repeats line {earlier.line}: imported once")
        else:
            errors.append(
                f"line {row.line}: the same person as line {earlier.line} with different details"
            )
    return unique
