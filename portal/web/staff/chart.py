"""The dashboard's chart of opt-ins and opt-outs by day and channel, laid out for SVG.

Drawn on the server as plain shapes (no scripts): opt-ins rise above the middle line and
opt-outs hang below it, one column per day, stacked by channel. The same numbers go in a
table beside it, for screen readers and for anyone who wants them exact.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from portal.consent.rules import Channel

DAYS = 90
WIDTH = 920  # viewBox units: 9.5 per day plus margins
HEIGHT = 400
LEFT = 60  # room for the axis words, large enough to read on a phone
MIDDLE = 195
HALF = 165  # the tallest column reaches this far from the middle line
DAY_WIDTH = 9.5
BAR_WIDTH = 7.5
CHANNELS = tuple(channel.value for channel in Channel)


@dataclasses.dataclass(frozen=True)
class Bar:
    x: float
    y: float
    height: float
    channel: str
    day: str
    count: int
    direction: str  # "in" or "out"


@dataclasses.dataclass(frozen=True)
class TableRow:
    day: str
    channel: str
    opt_ins: int
    opt_outs: int


@dataclasses.dataclass(frozen=True)
class Chart:
    first_day: str
    last_day: str
    bars: list[Bar]
    rows: list[TableRow]  # every day and channel with a change, oldest first
    totals: dict[str, tuple[int, int]]  # channel -> (opt-ins, opt-outs)
    peak: int
    width: int = WIDTH
    height: int = HEIGHT
    middle: int = MIDDLE
    left: int = LEFT
    half: int = HALF

    @property
    def total_in(self) -> int:
        return sum(opt_in for opt_in, _ in self.totals.values())

    @property
    def total_out(self) -> int:
        return sum(opt_out for _, opt_out in self.totals.values())


def first_day(today: dt.date) -> dt.date:
    return today - dt.timedelta(days=DAYS - 1)


def build(today: dt.date, counts: list) -> Chart:
    """Lay out rows of (day, channel, opt_ins, opt_outs) for the DAYS days up to today."""
    start = first_day(today)
    rows = [
        TableRow(r.day, r.channel, int(r.opt_ins or 0), int(r.opt_outs or 0))
        for r in counts
        if r.opt_ins or r.opt_outs
    ]
    per_day: dict[str, list[TableRow]] = {}
    for row in rows:
        per_day.setdefault(row.day, []).append(row)
    peak = max(
        [sum(r.opt_ins for r in day) for day in per_day.values()]
        + [sum(r.opt_outs for r in day) for day in per_day.values()]
        + [1]
    )
    scale = HALF / peak
    order = {channel: i for i, channel in enumerate(CHANNELS)}
    bars = []
    for index in range(DAYS):
        day = (start + dt.timedelta(days=index)).isoformat()
        x = LEFT + index * DAY_WIDTH
        above = below = 0.0
        for row in sorted(per_day.get(day, []), key=lambda r: order.get(r.channel, 99)):
            if row.opt_ins:
                height = row.opt_ins * scale
                above += height
                bars.append(Bar(x, MIDDLE - above, height, row.channel, day, row.opt_ins, "in"))
            if row.opt_outs:
                height = row.opt_outs * scale
                bars.append(Bar(x, MIDDLE + below, height, row.channel, day, row.opt_outs, "out"))
                below += height
    totals: dict[str, tuple[int, int]] = {}
    for row in rows:
        opt_in, opt_out = totals.get(row.channel, (0, 0))
        totals[row.channel] = (opt_in + row.opt_ins, opt_out + row.opt_outs)
    return Chart(
        first_day=start.isoformat(),
        last_day=today.isoformat(),
        bars=bars,
        rows=rows,
        totals=dict(sorted(totals.items(), key=lambda item: order.get(item[0], 99))),
        peak=peak,
    )
