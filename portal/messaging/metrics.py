"""Texting metrics: texts and segments sent per day, week and month (staff and automatic
apart), the delivery rate, and the opt-outs in the 48 hours after each mass text.

The database adds up each day (portal/db/metrics.py); the days are rolled into weeks and
months here, a few hundred rows at most whatever the size of the outbox.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from portal.clock import from_db, to_db
from portal.db import Conn, Row
from portal.db import metrics as metric_rows

KINDS = ("staff", "automatic")
DAYS_SHOWN = 31
WEEKS_SHOWN = 13
MONTHS_SHOWN = 12
AFTER_MASS_TEXT = dt.timedelta(hours=48)


@dataclasses.dataclass
class Period:
    """One day, week (from its Monday) or month: texts, segments and deliveries by kind."""

    label: str
    texts: dict[str, int] = dataclasses.field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    segments: dict[str, int] = dataclasses.field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    delivered: int = 0

    @property
    def total(self) -> int:
        return sum(self.texts.values())

    @property
    def delivery_rate(self) -> float | None:
        """Delivered / sent, or None when nothing was sent."""
        return self.delivered / self.total if self.total else None

    def add(self, row: Row) -> None:
        self.texts[row.kind] += int(row.texts)
        self.segments[row.kind] += int(row.segments or 0)
        self.delivered += int(row.delivered or 0)


@dataclasses.dataclass(frozen=True)
class AfterMassText:
    mass_text: Row
    opt_outs: int | None  # None: none of its texts has gone out yet


def since(today: dt.date) -> dt.datetime:
    """The first instant the page counts: the start of the oldest month it shows."""
    month = (today.year * 12 + today.month - 1) - (MONTHS_SHOWN - 1)
    return dt.datetime(month // 12, month % 12 + 1, 1, tzinfo=dt.UTC)


def _roll(rows: list[Row], key) -> list[Period]:
    periods: dict[str, Period] = {}
    for row in rows:
        label = key(dt.date.fromisoformat(row.day))
        periods.setdefault(label, Period(label)).add(row)
    return [periods[label] for label in sorted(periods, reverse=True)]


def by_day(rows: list[Row]) -> list[Period]:
    return _roll(rows, lambda day: day.isoformat())[:DAYS_SHOWN]


def by_week(rows: list[Row]) -> list[Period]:
    return _roll(rows, lambda day: (day - dt.timedelta(days=day.weekday())).isoformat())[
        :WEEKS_SHOWN
    ]


def by_month(rows: list[Row]) -> list[Period]:
    return _roll(rows, lambda day: day.isoformat()[:7])[:MONTHS_SHOWN]


async def after_mass_texts(conn: Conn) -> list[AfterMassText]:
    """Each recent mass text and how many of its recipients opted out in the 48 hours after
    its first text went out."""
    found = []
    for mass_text in await metric_rows.recent_mass_texts(conn):
        opt_outs = None
        if mass_text.first_sent:
            start = from_db(mass_text.first_sent)
            opt_outs = await metric_rows.opt_outs_after(
                conn, mass_text.id, start=to_db(start), end=to_db(start + AFTER_MASS_TEXT)
            )
        found.append(AfterMassText(mass_text, opt_outs))
    return found
