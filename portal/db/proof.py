"""Queries for the proof of consent of one phone number: its people and every change."""

from __future__ import annotations

from portal.db import Conn, Row

# Everyone who has the number now, and everyone whose ledger mentions it (they had it
# before, or a STOP from it reached them), archived people included: proof outlives leaving.
_NUMBER_PEOPLE = """
SELECT p.id, p.family_id, f.name AS family, p.kind, p.first_name, p.last_name, p.email,
       p.cell_phone, p.blocked, p.archived_at, p.created_at,
       COALESCE(s.status, 'none') AS status, s.phone AS consent_phone,
       COALESCE(ps.active, 0) AS suppressed
FROM people p
JOIN families f ON f.id = p.family_id
LEFT JOIN consent_state s ON s.person_id = p.id
LEFT JOIN phone_suppressions ps ON ps.phone = p.cell_phone AND ps.active = 1
WHERE p.cell_phone = :phone
   OR p.id IN (SELECT person_id FROM consent_events WHERE phone = :phone
               AND person_id IS NOT NULL)
ORDER BY p.id
"""


async def people_of_number(conn: Conn, phone: str) -> list[Row]:
    return await conn.fetch_all(_NUMBER_PEOPLE, {"phone": phone})


async def events_of_number(conn: Conn, phone: str, person_ids: list[int]) -> list[Row]:
    """Every event for this number (number-wide ones included) and every event of these
    people, oldest first, with the name of the person each is about."""
    names = {f"p{i}": person_id for i, person_id in enumerate(person_ids[:500])}
    of_people = (
        " OR e.person_id IN (" + ", ".join(f":{name}" for name in names) + ")" if names else ""
    )
    return await conn.fetch_all(
        "SELECT e.id, e.person_id, e.phone, e.old_status, e.new_status, e.channel,"
        " e.actor_kind, e.actor_label, e.evidence, e.wording_version, e.language, e.ip,"
        " e.user_agent, e.created_at, p.first_name, p.last_name"
        " FROM consent_events e LEFT JOIN people p ON p.id = e.person_id"
        " WHERE e.phone = :phone" + of_people + " ORDER BY e.id",
        {"phone": phone, **names},
    )
