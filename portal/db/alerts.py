"""Queries for the staff Alerts page: opt-outs to look at, their acknowledgements, the count.

The other kinds of alert live with their tables: plain-words stops to review in inbound.py,
failed and stuck messages in outbox.py. This module counts all three.
"""

from __future__ import annotations

from portal.db import Conn, Row
from portal.db.outbox import TROUBLED

# Written exactly as in the partial index consent_events_opt_outs (migration 0031), so that
# SQLite's planner sees the query only needs the index.
# An import's own opt-outs are the office's doing, not news for the office.
_OPT_OUT = "e.new_status IN ('opted_out', 'suppressed') AND e.channel != 'import'"


async def opt_outs(conn: Conn, *, before: int | None = None, limit: int = 50) -> list[Row]:
    """Opt-out events newest first, with the person (if any) and whether staff saw them.
    Keyset paged: `before` is the smallest event id of the previous page."""
    return await conn.fetch_all(
        "SELECT e.id, e.person_id, e.phone, e.old_status, e.new_status, e.channel,"
        " e.actor_kind, e.actor_label, e.created_at, p.first_name, p.last_name, p.kind,"
        " k.created_at AS seen_at, a.display_name AS seen_by"
        " FROM consent_events e LEFT JOIN people p ON p.id = e.person_id"
        " LEFT JOIN alert_acknowledgements k ON k.event_id = e.id"
        " LEFT JOIN accounts a ON a.id = k.account_id"
        " WHERE " + _OPT_OUT + " AND e.id < :before ORDER BY e.id DESC LIMIT :limit",
        {"before": before or 2**63 - 1, "limit": limit},
    )


async def acknowledge(conn: Conn, event_id: int, *, account_id: int, now: str) -> bool:
    """Mark one opt-out alert seen. False when it is no opt-out or was already seen."""
    done = await conn.fetch_val(
        "INSERT INTO alert_acknowledgements (event_id, account_id, created_at)"
        " SELECT e.id, :account, :now FROM consent_events e WHERE e.id = :id AND "
        + _OPT_OUT
        + " ON CONFLICT (event_id) DO NOTHING RETURNING id",
        {"id": event_id, "account": account_id, "now": now},
    )
    return done is not None


async def acknowledge_all(conn: Conn, *, up_to: int, account_id: int, now: str) -> int:
    """Mark seen every unseen opt-out up to event `up_to` (the newest the page showed, so an
    opt-out that arrived meanwhile stays unseen). Returns how many."""
    rows = await conn.fetch_all(
        "INSERT INTO alert_acknowledgements (event_id, account_id, created_at)"
        " SELECT e.id, :account, :now FROM consent_events e WHERE "
        + _OPT_OUT
        + " AND e.id <= :up_to"
        " AND NOT EXISTS (SELECT 1 FROM alert_acknowledgements k WHERE k.event_id = e.id)"
        " ON CONFLICT (event_id) DO NOTHING RETURNING id",
        {"up_to": up_to, "account": account_id, "now": now},
    )
    return len(rows)


async def opt_outs_counted(conn: Conn, tally: tuple[int, int]) -> tuple[int, int]:
    """Every opt-out event, counted on from an earlier (last opt-out id, count): the ledger
    only grows, and on SQLite, with one writer at a time, ids are given in commit order, so
    only the events after the last one counted need reading (a full count of 100,000 opt-outs
    took 33 ms of every staff page). PostgreSQL may commit ids out of order: it counts all."""
    if conn.dialect != "sqlite":
        tally = (0, 0)
    last_counted, counted = tally
    row = await conn.fetch_one(
        "SELECT COUNT(*) AS n, MAX(e.id) AS last FROM consent_events e"
        " WHERE " + _OPT_OUT + " AND e.id > :after",
        {"after": last_counted},
    )
    return (row["last"] or last_counted, counted + row["n"])


async def open_count(conn: Conn, *, stuck_before: str, opt_outs: int | None = None) -> int:
    """Open alerts, in one query for every staff page: unseen opt-outs, plain-words stops not
    yet reviewed, and messages that failed or are stuck (`stuck_before`: an hour ago) and
    were not retried since. `opt_outs`: how many opt-out events there are, when the caller
    has counted them (opt_outs_counted); else they are counted here.

    Unseen opt-outs are counted as all opt-outs minus all acknowledgements: two index counts,
    where an anti-join would probe the acknowledgements once per opt-out (27 ms at 50,000
    opt-outs, against 2). It holds because an acknowledgement is only ever made for an
    opt-out event (acknowledge and acknowledge_all select from them), at most once per event
    (UNIQUE), and a ledger event never changes."""
    opt_out_count = (
        "(SELECT COUNT(*) FROM consent_events e WHERE " + _OPT_OUT + ")"
        if opt_outs is None
        else str(int(opt_outs))
    )
    return await conn.fetch_val(
        "SELECT " + opt_out_count + " - (SELECT COUNT(*) FROM alert_acknowledgements)"
        " + (SELECT COUNT(*) FROM inbound_messages WHERE needs_review = 1"
        " AND reviewed_at IS NULL)"
        " + (SELECT COUNT(*) FROM outbox WHERE " + TROUBLED + ")",
        {"stuck": stuck_before},
    )
