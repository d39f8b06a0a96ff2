"""Queries for the staff dashboard: status counts, opt-ins and opt-outs by day, latest events."""

from __future__ import annotations

from portal.db import Conn, Row

# The staff console's status of each person, as consent.rules.texting_status decides it (same
# order: no phone, then a STOP, then a block, then the answer for the number they have now),
# with "not allowed" split into never asked and an answer of no, as in rules.STAFF_FILTERS.
# One pass over people with two primary-key lookups each: fast at 100,000 people.
_STATUS_COUNTS = """
SELECT code, COUNT(*) AS n FROM (
    SELECT CASE
        WHEN p.cell_phone IS NULL OR p.cell_phone = '' THEN 'no_phone'
        WHEN ps.phone IS NOT NULL THEN 'stopped'
        WHEN p.blocked <> 0 THEN 'blocked'
        WHEN s.status = 'opted_in' AND s.phone = p.cell_phone THEN 'allowed'
        WHEN s.status = 'pending' AND s.phone = p.cell_phone THEN 'pending'
        WHEN s.status IS NULL OR s.status = 'none' OR s.phone IS NULL
             OR s.phone <> p.cell_phone THEN 'never_asked'
        ELSE 'not_allowed'
    END AS code
    FROM people p
    LEFT JOIN consent_state s ON s.person_id = p.id
    LEFT JOIN phone_suppressions ps ON ps.phone = p.cell_phone AND ps.active = 1
    WHERE p.archived_at IS NULL
) coded
GROUP BY code
"""


async def fingerprint(conn: Conn) -> tuple:
    """Changes whenever a status count or the chart may have: every consent change and STOP
    writes a ledger event, a new person a people row, and an edit, a block or an archive
    touches people.updated_at. Three index ends, not a pass over everyone."""
    row = await conn.fetch_one(
        "SELECT (SELECT MAX(id) FROM consent_events) AS last_event,"
        " (SELECT MAX(id) FROM people) AS last_person,"
        " (SELECT MAX(updated_at) FROM people) AS last_update"
    )
    return (row.last_event, row.last_person, row.last_update)


async def status_counts(conn: Conn) -> dict[str, int]:
    """How many people (archived ones left out) stand in each staff status, by code."""
    return {row.code: row.n for row in await conn.fetch_all(_STATUS_COUNTS)}


async def opt_changes_by_day(conn: Conn, since: str) -> list[Row]:
    """Person opt-ins and opt-outs per UTC day and channel since `since` (ISO-8601 text).

    Number-wide events (a STOP's suppression) are left out: the same STOP also records an
    opt-out for each person with the number, and counting both would count it twice."""
    return await conn.fetch_all(
        "SELECT substr(created_at, 1, 10) AS day, channel,"
        " SUM(CASE WHEN new_status = 'opted_in' THEN 1 ELSE 0 END) AS opt_ins,"
        " SUM(CASE WHEN new_status = 'opted_out' THEN 1 ELSE 0 END) AS opt_outs"
        " FROM consent_events"
        " WHERE created_at >= :since AND person_id IS NOT NULL"
        " AND new_status IN ('opted_in', 'opted_out')"
        " GROUP BY substr(created_at, 1, 10), channel ORDER BY day, channel",
        {"since": since},
    )


async def latest_events(conn: Conn, limit: int = 20) -> list[Row]:
    """The newest consent events with the name of their person (none for number-wide ones)."""
    return await conn.fetch_all(
        "SELECT e.id, e.person_id, e.phone, e.old_status, e.new_status, e.channel,"
        " e.actor_label, e.created_at, p.first_name, p.last_name"
        " FROM consent_events e LEFT JOIN people p ON p.id = e.person_id"
        " ORDER BY e.id DESC LIMIT :limit",
        {"limit": limit},
    )
