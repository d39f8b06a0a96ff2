"""Queries for families and their people (contacts and students), always scoped by family."""

from __future__ import annotations

from portal.db import Conn, Row

# Every person read for a page comes with their consent state and whether their number is
# suppressed, in one query, so a page costs one round trip for its people.
_PERSON_WITH_STATE = """
SELECT p.id, p.family_id, p.kind, p.first_name, p.last_name, p.email, p.cell_phone,
       p.is_account_holder, p.blocked, p.email_confirmed, p.created_at, p.updated_at,
       p.archived_at, p.language, COALESCE(s.status, 'none') AS status, s.phone AS consent_phone,
       COALESCE(s.version, 0) AS consent_version, s.updated_at AS consent_updated_at,
       COALESCE(ps.active, 0) AS suppressed,
       CASE WHEN a.id IS NULL THEN 0 ELSE 1 END AS has_login
FROM people p
LEFT JOIN consent_state s ON s.person_id = p.id
LEFT JOIN phone_suppressions ps ON ps.phone = p.cell_phone AND ps.active = 1
LEFT JOIN accounts a ON a.person_id = p.id
"""


def last4(cell_phone: str | None) -> str | None:
    """The last four digits, kept beside the number so staff can find it by them."""
    return cell_phone[-4:] if cell_phone else None


async def create_family(conn: Conn, *, name: str, now: str) -> int:
    return await conn.fetch_val(
        "INSERT INTO families (name, created_at) VALUES (:name, :now) RETURNING id",
        {"name": name, "now": now},
    )


async def family(conn: Conn, family_id: int) -> Row | None:
    return await conn.fetch_one(
        "SELECT id, name, created_at FROM families WHERE id = :id", {"id": family_id}
    )


async def create(
    conn: Conn,
    *,
    family_id: int,
    kind: str,
    first_name: str,
    last_name: str,
    email: str | None,
    cell_phone: str | None,
    is_account_holder: bool = False,
    now: str,
) -> int:
    return await conn.fetch_val(
        "INSERT INTO people (family_id, kind, first_name, last_name, email, cell_phone,"
        " phone_last4, is_account_holder, created_at, updated_at)"
        " VALUES (:family_id, :kind, :first_name, :last_name, :email, :cell_phone,"
        " :last4, :holder, :now, :now) RETURNING id",
        {
            "family_id": family_id,
            "kind": kind,
            "first_name": first_name,
            "last_name": last_name,
            "email": email,
            "cell_phone": cell_phone,
            "last4": last4(cell_phone),
            "holder": int(is_account_holder),
            "now": now,
        },
    )


async def in_family(conn: Conn, family_id: int, person_id: int) -> Row | None:
    """A person of this family, or None: another family's id looks exactly like a missing one."""
    return await conn.fetch_one(
        _PERSON_WITH_STATE + " WHERE p.id = :id AND p.family_id = :family_id",
        {"id": person_id, "family_id": family_id},
    )


async def by_id(conn: Conn, person_id: int) -> Row | None:
    """Unscoped lookup, for channels that prove identity otherwise (a signed link, a handset)."""
    return await conn.fetch_one(_PERSON_WITH_STATE + " WHERE p.id = :id", {"id": person_id})


async def in_saved_list(conn: Conn, list_id: int, *, after: int = 0, limit: int = 500) -> list[Row]:
    """One page of a saved list's people, archived ones too, by id (keyset after `after`)."""
    return await conn.fetch_all(
        _PERSON_WITH_STATE + " JOIN saved_list_members m ON m.person_id = p.id"
        " WHERE m.list_id = :list AND p.id > :after ORDER BY p.id LIMIT :limit",
        {"list": list_id, "after": after, "limit": limit},
    )


async def language_of(conn: Conn, person_id: int) -> str | None:
    """The language saved for a person (None: not chosen; the browser decides)."""
    return await conn.fetch_val("SELECT language FROM people WHERE id = :id", {"id": person_id})


async def set_language(conn: Conn, person_id: int, language: str | None) -> None:
    """Save (or, with None, forget) a person's language. Not consent: no ledger event."""
    await conn.execute(
        "UPDATE people SET language = :language WHERE id = :id",
        {"language": language, "id": person_id},
    )


async def of_family(conn: Conn, family_id: int, kind: str | None = None) -> list[Row]:
    sql = _PERSON_WITH_STATE + " WHERE p.family_id = :family_id"
    values: dict = {"family_id": family_id}
    if kind:
        sql += " AND p.kind = :kind"
        values["kind"] = kind
    return await conn.fetch_all(
        sql + " ORDER BY p.is_account_holder DESC, p.first_name, p.last_name, p.id", values
    )


async def with_phone(conn: Conn, phone: str) -> list[Row]:
    return await conn.fetch_all(
        _PERSON_WITH_STATE + " WHERE p.cell_phone = :phone ORDER BY p.id", {"phone": phone}
    )


async def all_people(conn: Conn) -> list[Row]:
    return await conn.fetch_all(_PERSON_WITH_STATE + " ORDER BY p.family_id, p.kind, p.id")


async def update_details(
    conn: Conn,
    person_id: int,
    *,
    first_name: str,
    last_name: str,
    email: str | None,
    email_confirmed: bool,
    cell_phone: str | None,
    now: str,
) -> None:
    await conn.execute(
        "UPDATE people SET first_name = :first_name, last_name = :last_name, email = :email,"
        " email_confirmed = :confirmed, cell_phone = :cell_phone, phone_last4 = :last4,"
        " updated_at = :now"
        " WHERE id = :id",
        {
            "id": person_id,
            "first_name": first_name,
            "last_name": last_name,
            "email": email,
            "confirmed": int(email_confirmed),
            "cell_phone": cell_phone,
            "last4": last4(cell_phone),
            "now": now,
        },
    )


async def email_taken(conn: Conn, email: str, except_person_id: int | None = None) -> bool:
    """Logins are by email, so two contacts cannot share one."""
    count = await conn.fetch_val(
        "SELECT COUNT(*) FROM people WHERE lower(email) = lower(:email) AND kind = 'contact'"
        " AND id != :except_id",
        {"email": email, "except_id": except_person_id or 0},
    )
    return bool(count)


async def count(conn: Conn) -> int:
    return await conn.fetch_val("SELECT COUNT(*) FROM people")


async def roster_index(conn: Conn) -> list[Row]:
    """Everyone as an import matches them: family name, kind and names, with the channel of
    their current consent state, so an import can tell a person's own answer from its own."""
    return await conn.fetch_all(
        "SELECT p.id, p.family_id, f.name AS family, p.kind, p.first_name, p.last_name,"
        " p.email, p.cell_phone, p.blocked, COALESCE(s.status, 'none') AS status,"
        " s.phone AS consent_phone, e.channel AS consent_channel"
        " FROM people p JOIN families f ON f.id = p.family_id"
        " LEFT JOIN consent_state s ON s.person_id = p.id"
        " LEFT JOIN consent_events e ON e.id = s.last_event_id"
    )


async def families_by_name(conn: Conn) -> dict[str, int]:
    """Family ids by name as typed, the oldest family first when two share a name."""
    rows = await conn.fetch_all("SELECT id, name FROM families ORDER BY id DESC")
    return {row.name: row.id for row in rows}


async def suppressed_phones(conn: Conn, phones: list[str]) -> set[str]:
    """Which of these numbers replied STOP (or were stopped at the carrier)."""
    if not phones:
        return set()
    found: set[str] = set()
    # In slices: SQLite caps the number of bound parameters in one statement.
    for start in range(0, len(phones), 500):
        chunk = phones[start : start + 500]
        names = {f"p{i}": phone for i, phone in enumerate(chunk)}
        rows = await conn.fetch_all(
            "SELECT phone FROM phone_suppressions WHERE active = 1 AND phone IN ("
            + ", ".join(f":{name}" for name in names)
            + ")",
            names,
        )
        found.update(row.phone for row in rows)
    return found


# The SQL form of each staff status filter (consent/rules.STAFF_FILTERS), in the same order of
# precedence as rules.texting_status: no phone, then STOP, then blocked, then the answer.
_STATUS_SQL = {
    "no_phone": "p.cell_phone IS NULL",
    "stopped": "p.cell_phone IS NOT NULL AND ps.active = 1",
    "blocked": "p.cell_phone IS NOT NULL AND ps.phone IS NULL AND p.blocked = 1",
    "allowed": "p.cell_phone IS NOT NULL AND ps.phone IS NULL AND p.blocked = 0"
    " AND s.status = 'opted_in' AND s.phone = p.cell_phone",
    "pending": "p.cell_phone IS NOT NULL AND ps.phone IS NULL AND p.blocked = 0"
    " AND s.status = 'pending' AND s.phone = p.cell_phone",
    "not_allowed": "p.cell_phone IS NOT NULL AND ps.phone IS NULL AND p.blocked = 0"
    " AND s.status = 'opted_out' AND s.phone = p.cell_phone",
    "never_asked": "p.cell_phone IS NOT NULL AND ps.phone IS NULL AND p.blocked = 0"
    " AND (s.status IS NULL OR s.status = 'none' OR s.phone IS NULL OR s.phone != p.cell_phone)",
}

_SEARCH = """
SELECT p.id, p.family_id, f.name AS family_name, p.kind, p.first_name, p.last_name, p.email,
       p.cell_phone, p.is_account_holder, p.blocked, p.email_confirmed, p.archived_at,
       COALESCE(s.status, 'none') AS status, s.phone AS consent_phone,
       COALESCE(ps.active, 0) AS suppressed,
       lower(p.last_name) AS sort_last, lower(p.first_name) AS sort_first
FROM people p
JOIN families f ON f.id = p.family_id
LEFT JOIN consent_state s ON s.person_id = p.id
LEFT JOIN phone_suppressions ps ON ps.phone = p.cell_phone AND ps.active = 1
"""


def _prefix_range(prefix: str) -> tuple[str, str]:
    """[prefix, prefix + the highest character): a prefix match an index can serve."""
    return prefix, prefix + "\U0010ffff"


async def search(conn: Conn, criteria, *, after=None, limit: int = 50) -> list[Row]:
    """One page of people matching `criteria` (portal/people/search.Criteria), ordered by
    last name, first name and id, starting after the keyset position `after`."""
    where, values = [], {"limit": limit}
    if not criteria.include_archived:
        where.append("p.archived_at IS NULL")
    if criteria.phone:
        where.append("p.cell_phone = :phone")
        values["phone"] = criteria.phone
    elif criteria.phone_prefix:
        where.append("p.cell_phone >= :lo AND p.cell_phone < :hi")
        values["lo"], values["hi"] = _prefix_range(criteria.phone_prefix)
    elif criteria.last4:
        where.append("p.phone_last4 = :last4")
        values["last4"] = criteria.last4
        if criteria.phone_suffix:
            where.append("p.cell_phone LIKE :suffix")
            values["suffix"] = "%" + criteria.phone_suffix
    elif criteria.email_prefix:
        where.append("lower(p.email) >= :lo AND lower(p.email) < :hi")
        values["lo"], values["hi"] = _prefix_range(criteria.email_prefix)
    elif criteria.full_name:
        where.append(
            "lower(p.first_name) >= :flo AND lower(p.first_name) < :fhi"
            " AND lower(p.last_name) >= :llo AND lower(p.last_name) < :lhi"
        )
        values["flo"], values["fhi"] = _prefix_range(criteria.full_name[0])
        values["llo"], values["lhi"] = _prefix_range(criteria.full_name[1])
    elif criteria.name_prefix:
        where.append(
            "((lower(p.last_name) >= :lo AND lower(p.last_name) < :hi)"
            " OR (lower(p.first_name) >= :lo AND lower(p.first_name) < :hi))"
        )
        values["lo"], values["hi"] = _prefix_range(criteria.name_prefix)
    if criteria.status:
        where.append(_STATUS_SQL[criteria.status])
    if criteria.family_id is not None:
        where.append("p.family_id = :family_id")
        values["family_id"] = criteria.family_id
    if after is not None:
        where.append(
            "(lower(p.last_name) > :a_last OR (lower(p.last_name) = :a_last"
            " AND (lower(p.first_name) > :a_first OR (lower(p.first_name) = :a_first"
            " AND p.id > :a_id))))"
        )
        values["a_last"], values["a_first"], values["a_id"] = after
    sql = _SEARCH + (" WHERE " + " AND ".join(where) if where else "")
    sql += " ORDER BY lower(p.last_name), lower(p.first_name), p.id LIMIT :limit"
    return await conn.fetch_all(sql, values)


async def set_blocked(conn: Conn, person_id: int, *, blocked: bool, now: str) -> None:
    """Only consent/commands calls this: blocking is part of a consent change."""
    await conn.execute(
        "UPDATE people SET blocked = :blocked, updated_at = :now WHERE id = :id",
        {"blocked": int(blocked), "now": now, "id": person_id},
    )
