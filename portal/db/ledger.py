"""Queries for the consent ledger, current consent state and phone-number suppressions.

Only `portal/consent/commands/record.py` calls the writing functions here: the one write path.
"""

from __future__ import annotations

import json
from typing import Any

from portal.db import Conn, Row
from portal.db import people as people_rows


async def append_event(
    conn: Conn,
    *,
    person_id: int | None,
    phone: str | None,
    old_status: str | None,
    new_status: str,
    channel: str,
    actor_kind: str,
    actor_account_id: int | None,
    actor_person_id: int | None,
    actor_label: str,
    evidence: dict[str, Any],
    wording_version: str | None,
    ip: str,
    user_agent: str,
    now: str,
    language: str | None = None,
) -> int:
    """`language`: what the person saw or said it in ('en', 'es'); None where nobody saw
    wording (staff, import, carrier)."""
    return await conn.fetch_val(
        "INSERT INTO consent_events (person_id, phone, old_status, new_status, channel,"
        " actor_kind, actor_account_id, actor_person_id, actor_label, evidence,"
        " wording_version, ip, user_agent, created_at, language)"
        " VALUES (:person_id, :phone, :old, :new, :channel, :actor_kind, :actor_account_id,"
        " :actor_person_id, :actor_label, :evidence, :wording, :ip, :ua, :now, :language)"
        " RETURNING id",
        {
            "person_id": person_id,
            "phone": phone,
            "old": old_status,
            "new": new_status,
            "channel": channel,
            "actor_kind": actor_kind,
            "actor_account_id": actor_account_id,
            "actor_person_id": actor_person_id,
            "actor_label": actor_label[:200],
            "evidence": json.dumps(evidence, sort_keys=True, ensure_ascii=False),
            "wording": wording_version,
            "ip": ip[:100],
            "ua": user_agent[:400],
            "now": now,
            "language": language,
        },
    )


async def state_for_update(conn: Conn, person_id: int) -> Row | None:
    """Current state inside a write transaction (SQLite's BEGIN IMMEDIATE already serialises).

    On PostgreSQL the person's row is locked first: someone never asked has no state row to
    lock, and two first answers at once would both insert one. NO KEY UPDATE, the lock an
    UPDATE of their details takes, so rows that merely refer to the person still go in."""
    if conn.dialect == "postgresql":
        await conn.execute(
            "SELECT id FROM people WHERE id = :id FOR NO KEY UPDATE", {"id": person_id}
        )
    return await _state(conn, person_id, lock=conn.dialect == "postgresql")


async def state(conn: Conn, person_id: int) -> Row | None:
    """Current state for a page: read, never locked."""
    return await _state(conn, person_id, lock=False)


async def _state(conn: Conn, person_id: int, *, lock: bool) -> Row | None:
    return await conn.fetch_one(
        "SELECT person_id, status, phone, version, last_event_id FROM consent_state"
        " WHERE person_id = :id" + (" FOR UPDATE" if lock else ""),
        {"id": person_id},
    )


async def put_state(
    conn: Conn,
    *,
    person_id: int,
    status: str,
    phone: str | None,
    version: int,
    event_id: int,
    now: str,
) -> None:
    if version == 1:
        await conn.execute(
            "INSERT INTO consent_state (person_id, status, phone, version, last_event_id,"
            " updated_at) VALUES (:id, :status, :phone, :version, :event, :now)",
            {
                "id": person_id,
                "status": status,
                "phone": phone,
                "version": version,
                "event": event_id,
                "now": now,
            },
        )
        return
    await conn.execute(
        "UPDATE consent_state SET status = :status, phone = :phone, version = :version,"
        " last_event_id = :event, updated_at = :now WHERE person_id = :id",
        {
            "id": person_id,
            "status": status,
            "phone": phone,
            "version": version,
            "event": event_id,
            "now": now,
        },
    )


async def lock_number(conn: Conn, phone: str) -> None:
    """Hold this number's lock until the transaction ends, before reading its suppression.

    On PostgreSQL two instances may take two STOPs from one number at the same moment: each
    would find no suppression, and both would record it (or the second would hit the primary
    key). An advisory lock works even before the number has a row to lock. SQLite runs one
    write transaction at a time already."""
    if conn.dialect == "postgresql":
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(:phone, 0))", {"phone": phone}
        )


async def suppression(conn: Conn, phone: str) -> Row | None:
    return await conn.fetch_one(
        "SELECT phone, active, source, last_event_id, updated_at FROM phone_suppressions"
        " WHERE phone = :phone",
        {"phone": phone},
    )


async def put_suppression(
    conn: Conn,
    *,
    phone: str,
    active: bool,
    source: str,
    event_id: int,
    now: str,
) -> None:
    updated = await conn.fetch_val(
        "UPDATE phone_suppressions SET active = :active, source = :source,"
        " last_event_id = :event, updated_at = :now WHERE phone = :phone RETURNING phone",
        {"phone": phone, "active": int(active), "source": source, "event": event_id, "now": now},
    )
    if updated is None:
        await conn.execute(
            "INSERT INTO phone_suppressions (phone, active, source, last_event_id, updated_at)"
            " VALUES (:phone, :active, :source, :event, :now)",
            {
                "phone": phone,
                "active": int(active),
                "source": source,
                "event": event_id,
                "now": now,
            },
        )


async def events_of(conn: Conn, person_id: int, limit: int = 200) -> list[Row]:
    return await conn.fetch_all(
        "SELECT id, person_id, phone, old_status, new_status, channel, actor_kind,"
        " actor_label, evidence, wording_version, language, ip, user_agent, created_at"
        " FROM consent_events WHERE person_id = :id ORDER BY id DESC LIMIT :limit",
        {"id": person_id, "limit": limit},
    )


async def all_events(conn: Conn) -> list[Row]:
    return await conn.fetch_all(
        "SELECT id, person_id, phone, old_status, new_status, channel, actor_kind,"
        " actor_label, evidence, wording_version, language, ip, user_agent, created_at"
        " FROM consent_events ORDER BY id"
    )


async def event(conn: Conn, event_id: int) -> Row | None:
    return await conn.fetch_one(
        "SELECT id, person_id, phone, old_status, new_status, channel, actor_kind,"
        " actor_account_id, actor_label, evidence, wording_version, language, ip, user_agent,"
        " created_at"
        " FROM consent_events WHERE id = :id",
        {"id": event_id},
    )


async def number_events(conn: Conn, phone: str, limit: int = 200) -> list[Row]:
    """The number-wide events (STOP and its lifting) of one phone number, newest first."""
    return await conn.fetch_all(
        "SELECT id, person_id, phone, old_status, new_status, channel, actor_kind,"
        " actor_label, evidence, wording_version, language, ip, user_agent, created_at"
        " FROM consent_events WHERE person_id IS NULL AND phone = :phone"
        " ORDER BY id DESC LIMIT :limit",
        {"phone": phone, "limit": limit},
    )


# The export reads the ledger in keyset pages: each page is one short query, so the whole
# ledger is never in memory and no read holds a connection while the file is written out.
async def events_page(conn: Conn, *, after_id: int, limit: int) -> list[Row]:
    """Up to `limit` events after `after_id`, oldest first, each with its person (if any) and
    what their current status is read from: their state and whether their number is stopped
    (for a number-wide event, whether that number is stopped now)."""
    return await conn.fetch_all(
        "SELECT e.id, e.person_id, e.phone, e.old_status, e.new_status, e.channel,"
        " e.actor_kind, e.actor_label, e.evidence, e.wording_version, e.language, e.ip,"
        " e.user_agent,"
        " e.created_at, p.first_name, p.last_name, p.kind, p.cell_phone, p.blocked,"
        " p.archived_at, COALESCE(s.status, 'none') AS status, s.phone AS consent_phone,"
        " COALESCE(ps.active, 0) AS suppressed"
        " FROM consent_events e"
        " LEFT JOIN people p ON p.id = e.person_id"
        " LEFT JOIN consent_state s ON s.person_id = p.id"
        " LEFT JOIN phone_suppressions ps"
        "   ON ps.phone = COALESCE(p.cell_phone, e.phone) AND ps.active = 1"
        " WHERE e.id > :after ORDER BY e.id LIMIT :limit",
        {"after": after_id, "limit": limit},
    )


# Batched forms of the writes above, for an import's chunk: the same rows, in a few statements
# instead of a few per person. `IN_SLICE` keeps every statement under the bound-parameter caps
# (SQLite's, asyncpg's) whatever the chunk's size. A multi-row insert takes fewer rows a
# statement: sqlite3 binds each `:name` by a linear scan of the statement's names.
IN_SLICE = 500
INSERT_SLICE = 50

_EVENT_COLUMNS = (
    "person_id",
    "phone",
    "old_status",
    "new_status",
    "channel",
    "actor_kind",
    "actor_account_id",
    "actor_person_id",
    "actor_label",
    "evidence",
    "wording_version",
    "ip",
    "user_agent",
    "created_at",
)


async def states_for_update(conn: Conn, person_ids: list[int]) -> dict[int, Row]:
    """`state_for_update` for many people at once: their current states, by person id. On
    PostgreSQL the people's rows are locked first, in id order, as the single form does."""
    ids = sorted(set(person_ids))
    await people_rows.lock_for_consent(conn, ids)
    found: dict[int, Row] = {}
    for start in range(0, len(ids), IN_SLICE):
        names = {f"i{n}": person_id for n, person_id in enumerate(ids[start : start + IN_SLICE])}
        listed = ", ".join(f":{name}" for name in names)
        rows = await conn.fetch_all(
            "SELECT person_id, status, phone, version, last_event_id FROM consent_state"
            f" WHERE person_id IN ({listed}) ORDER BY person_id"
            + (" FOR UPDATE" if conn.dialect == "postgresql" else ""),
            names,
        )
        found.update((row.person_id, row) for row in rows)
    return found


async def append_person_events(conn: Conn, events: list[dict[str, Any]]) -> dict[int, int]:
    """`append_event` for many people, at most one event each: the new events' ids by person
    id. Each dict gives `append_event`'s arguments (`old`, `new`, `wording`, `now` by the
    column names: old_status, new_status, wording_version, created_at)."""
    person_ids = [event["person_id"] for event in events]
    if len(set(person_ids)) != len(person_ids):
        raise ValueError("one event per person in a batch: their ids name the events")
    ids: dict[int, int] = {}
    for start in range(0, len(events), INSERT_SLICE):
        values: dict[str, Any] = {}
        tuples = []
        for n, event in enumerate(events[start : start + INSERT_SLICE]):
            row = {
                **event,
                "actor_label": event["actor_label"][:200],
                "evidence": json.dumps(event["evidence"], sort_keys=True, ensure_ascii=False),
                "ip": event["ip"][:100],
                "user_agent": event["user_agent"][:400],
            }
            values.update({f"{column}_{n}": row[column] for column in _EVENT_COLUMNS})
            tuples.append("(" + ", ".join(f":{column}_{n}" for column in _EVENT_COLUMNS) + ")")
        rows = await conn.fetch_all(
            "INSERT INTO consent_events ("
            + ", ".join(_EVENT_COLUMNS)
            + ") VALUES "
            + ", ".join(tuples)
            + " RETURNING id, person_id",
            values,
        )
        ids.update((row.person_id, row.id) for row in rows)
    return ids


async def put_states(conn: Conn, states: list[dict[str, Any]]) -> None:
    """`put_state` for many people: each dict gives its arguments (person_id, status, phone,
    version, event_id, now). Version 1 is a person's first state, inserted; later ones update."""
    first = [s for s in states if s["version"] == 1]
    later = [s for s in states if s["version"] != 1]
    if first:
        await conn.execute_many(
            "INSERT INTO consent_state (person_id, status, phone, version, last_event_id,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (s["person_id"], s["status"], s["phone"], s["version"], s["event_id"], s["now"])
                for s in first
            ],
        )
    if later:
        await conn.execute_many(
            "UPDATE consent_state SET status = ?, phone = ?, version = ?, last_event_id = ?,"
            " updated_at = ? WHERE person_id = ?",
            [
                (s["status"], s["phone"], s["version"], s["event_id"], s["now"], s["person_id"])
                for s in later
            ],
        )
