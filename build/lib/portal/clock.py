"""The injectable clock: code asks it for the time so tests can stand at an exact instant."""

from __future__ import annotations

import datetime as dt


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SystemClock:
    def now(self) -> dt.datetime:
        return utc_now()


class FrozenClock:
    """A clock that only moves when told to; for tests and the benchmark."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._now = start or dt.datetime(2026, 1, 5, 15, 0, tzinfo=dt.UTC)

    def now(self) -> dt.datetime:
        return self._now

    def advance(self, **delta: float) -> dt.datetime:
        self._now += dt.timedelta(**delta)
        return self._now

    def set(self, instant: dt.datetime) -> None:
        self._now = instant


def to_db(instant: dt.datetime) -> str:
    """Timestamps are stored as ISO-8601 UTC text: sortable, portable, readable in proof exports."""
    return instant.astimezone(dt.UTC).isoformat(timespec="microseconds")


def from_db(text: str | dt.datetime | None) -> dt.datetime | None:
    if text is None:
        return None
    if isinstance(text, dt.datetime):
        return text if text.tzinfo else text.replace(tzinfo=dt.UTC)
    return dt.datetime.fromisoformat(text)
