"""The results table: each figure, its same-run floor, the ratio, the target, PASS or MISS."""

from __future__ import annotations

import dataclasses
import statistics


@dataclasses.dataclass
class Row:
    what: str
    figure: float
    unit: str
    floor: float | None = None  # same unit as figure
    target: str = ""
    passed: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if not self.floor:
            return None
        # For rates, figure/floor; for durations (seconds), floor/figure: above 1 is better.
        return self.figure / self.floor if self.unit.endswith("/s") else self.floor / self.figure


def rate_row(what, figure, floor, minimum, note="", ok=True) -> Row:
    row = Row(what, figure, "req/s", floor, f"≥ {minimum} of floor", None, note)
    row.passed = ok and row.ratio is not None and row.ratio >= minimum
    return row


def limit_row(what, figure, unit, limit, floor=None, note="", ok=True) -> Row:
    return Row(what, figure, unit, floor, f"≤ {limit:g} {unit}", ok and figure <= limit, note)


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit in ("s", "ms") and value < 10:
        return f"{value:.2f} {unit}"
    return f"{value:,.0f} {unit}"


def median_rows(runs: list[list[Row]]) -> list[Row]:
    """Row by row, the run with the median figure (its floor, ratio and verdict with it)."""
    merged = []
    for versions in zip(*runs, strict=True):
        ordered = sorted(versions, key=lambda r: r.figure)
        merged.append(ordered[len(ordered) // 2])
    return merged


def markdown(rows: list[Row]) -> str:
    lines = [
        "| what | figure | floor (same run) | ratio | target | verdict | notes |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = f"{r.ratio:.3g}x" if r.ratio is not None else "—"
        verdict = {True: "PASS", False: "MISS", None: "—"}[r.passed]
        lines.append(
            f"| {r.what} | {_number(r.figure, r.unit)} | {_number(r.floor, r.unit)} | {ratio}"
            f" | {r.target} | {verdict} | {r.note} |"
        )
    return "\n".join(lines)


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def median(values: list[float]) -> float:
    return statistics.median(values)
