"""The run's data: roster files, history rows for the ledger, and the plain floors that write
the same rows (sqlite3 executemany, an aiosmtplib loop).

Roster rows, five to a family: two contacts who agreed on paper (texting=yes: the mass text's
audience), two who never answered (the opt-in requests' audience), and a student with a phone
of their own and no answer (the numbers that reply STOP). Every phone and email is distinct.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import sqlite3
import time
from pathlib import Path

import phonenumbers

HEADER = ["family", "kind", "first_name", "last_name", "email", "cell_phone", "texting"]
HEADER.append("consent_note")
SAVES_FAMILY = "Lee"  # the second demo family: its account holder makes the portal saves


def phone(n: int) -> str:
    """The n-th distinct US number, E.164, valid for `phonenumbers` (area codes 201-989)."""
    area, rest = divmod(n, 8_000_000)
    exchange, line = divmod(rest, 10_000)
    return f"+1{201 + area}{200 + exchange:03d}{line:04d}"


def roster_rows(count: int, start: int, *, saves_students: int = 0) -> list[list[str]]:
    rows = [
        [SAVES_FAMILY, "student", f"Saver{i}", "Lee", "", phone(9_000_000 + i), "yes", "form"]
        for i in range(saves_students)
    ]
    for i in range(start, start + count - saves_students):
        family, kind = f"District {i // 5:06d}", i % 5
        if kind == 4:
            rows.append([family, "student", f"Kid{i}", family, "", phone(i), "", ""])
            continue
        agreed = kind < 2
        rows.append(
            [
                family,
                "contact",
                f"First{i}",
                f"Last{i // 5}",
                f"p{i}@district.example",
                phone(i),
                "yes" if agreed else "",
                "registration form" if agreed else "",
            ]
        )
    return rows


def write_roster(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(rows)


def stop_numbers(count: int, start: int, offset: int = 0) -> list[str]:
    """Numbers of imported students (kind 4), who will reply STOP."""
    return [phone(i) for i in range(start + 4 + 5 * offset, start + 4 + 5 * (offset + count), 5)]


def _floor_connection(path: Path) -> sqlite3.Connection:
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    return conn


def executemany_floor(path: Path, table: str, columns: list[str], rows: list[tuple]) -> float:
    """Seconds for plain sqlite3 to write `rows` in one durable transaction, with indexes like
    the product's on the columns people are found by."""
    conn = _floor_connection(path)
    conn.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, {', '.join(columns)})")
    conn.execute(f"CREATE INDEX {table}_first ON {table} ({columns[0]})")
    marks = ", ".join("?" for _ in columns)
    started = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def people_floor_rows(rows: list[list[str]]) -> tuple[list[str], list[tuple]]:
    """What an import writes per person, for the executemany floor (E.164 parsed the same way)."""
    columns = ["family", "kind", "first_name", "last_name", "email", "cell_phone", "created_at"]
    now = dt.datetime.now(dt.UTC).isoformat()
    out = []
    for family, kind, first, last, email, cell, *_ in rows:
        parsed = phonenumbers.format_number(
            phonenumbers.parse(cell, "US"), phonenumbers.PhoneNumberFormat.E164
        )
        out.append((family, kind, first, last, email or None, parsed, now))
    return columns, out


def outbox_floor_rows(count: int, body: str) -> tuple[list[str], list[tuple]]:
    columns = ["recipient", "channel", "template", "body_text", "requires_consent", "created_at"]
    now = dt.datetime.now(dt.UTC).isoformat()
    return columns, [(phone(i), "sms", "mass_text", body, 1, now) for i in range(count)]


def request_floor_rows(count: int, body: str) -> tuple[list[str], list[tuple]]:
    columns = ["recipient", "channel", "template", "body_text", "body_html", "created_at"]
    now = dt.datetime.now(dt.UTC).isoformat()
    return columns, [
        (f"p{i}@district.example", "email", "consent_request", body, body, now)
        for i in range(count)
    ]


async def smtp_floor(port: int, count: int, message: bytes) -> float:
    """Seconds for a plain aiosmtplib loop to send `count` messages over one connection."""
    import aiosmtplib

    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
    await client.connect()
    started = time.perf_counter()
    for i in range(count):
        await client.sendmail("no-reply@portal.example", [f"p{i}@district.example"], message)
    elapsed = time.perf_counter() - started
    await client.quit()
    return elapsed


async def seed_history(db, target_events: int) -> int:
    """Fill the ledger up to `target_events` with years of past changes of the people there.

    Written straight into consent_events (not through the consent commands): history-shaped
    rows for the export and the staff pages to read. Replaying 300,000 changes through the one
    write path would take most of an hour and measure nothing these rows are for. Returns how
    many rows were added."""
    async with db.read() as conn:
        have = await conn.fetch_val("SELECT COUNT(*) FROM consent_events")
        people = [
            (r["id"], r["cell_phone"])
            for r in await conn.fetch_all("SELECT id, cell_phone FROM people ORDER BY id")
        ]
    missing = target_events - have
    if missing <= 0 or not people:
        return 0
    channels = ["portal", "staff", "email_link", "sms_keyword", "import"]
    start = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
    step = (dt.datetime(2026, 1, 1, tzinfo=dt.UTC) - start) / missing
    sql = (
        "INSERT INTO consent_events (person_id, phone, old_status, new_status, channel,"
        " actor_kind, actor_label, evidence, wording_version, ip, user_agent, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    added = 0
    while added < missing:
        batch = []
        for n in range(added, min(missing, added + 5000)):
            person_id, cell = people[n % len(people)]
            allowed = n % 2 == 0
            batch.append(
                (
                    person_id,
                    cell,
                    "opted_out" if allowed else "opted_in",
                    "opted_in" if allowed else "opted_out",
                    channels[n % len(channels)],
                    "system",
                    "benchmark history",
                    json.dumps({"note": "benchmark history"}),
                    "1",
                    "127.0.0.1",
                    "benchmark",
                    (start + step * n).strftime("%Y-%m-%d %H:%M:%S"),
                )
            )
        async with db.write() as conn:
            await conn.execute_many(sql, batch)
        added += len(batch)
    return added
