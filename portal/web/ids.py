"""Row ids in URLs: only 1 .. 2**63-1, the range a database integer key can hold.

A bigger number reached SQLite as an OverflowError, a 500, where it should be a 404 like any
other id that names nothing. Routes take ids as `{person_id:id}`, so an id out of range never
matches a route at all; `parse_id` is for an id that arrives any other way (a form field).
"""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException

MAX_ID = 2**63 - 1


def parse_id(value: object) -> int:
    """The id as an int, or 404: not a number, zero, negative or too big for a key."""
    text = str(value).strip()
    if not text.isdigit() or not text.isascii() or len(text) > len(str(MAX_ID)):
        raise HTTPException(404)
    number = int(text)
    if not 1 <= number <= MAX_ID:
        raise HTTPException(404)
    return number


class IdConvertor(Convertor[int]):
    # At most 18 digits, so every match is below 2**63 without a check the router cannot make
    # (a convertor that raised would be a 500 again).
    regex = "[1-9][0-9]{0,17}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(parse_id(value))


def register_route_convertor() -> None:
    """Let routes say `{person_id:id}`. Starlette keeps convertors globally; this is idempotent."""
    register_url_convertor("id", IdConvertor())
