"""Queries for families and their people (contacts and students), always scoped by family."""

from __future__ import annotations

from portal.db import Conn, Row

# Every person read for a page comes with their consent state and whether their number is
# suppressed, in one query, so a page costs one round trip for its people.
_PERSON_WITH_STATE = """
SELECT p.id, p.family_id, p.kind, p.first_name, p.last_name, p.email, p.cell_phone,
       p.is_account_holder, p.blocked, p.email_confirmed, p.created_at, p.updated_at,
       p.archived_at, p.language, COALESCE(s.status, 'none') AS status,
       s.phone AS consent_phone, COALESCE(s.version, 0) AS consent_version,
       s.updated_at AS consent_updated_at,
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


async def locked_for_requests(conn: Conn, person_ids: list[int]) -> dict[int, Row]:
    """These people with their consent state, by id, read inside a write transaction to ask
    them for consent. On PostgreSQL their rows are locked first (lock_for_consent), so the
    state read is the latest."""
    ids = sorted(set(person_ids))
    await lock_for_consent(conn, ids)
    return await by_ids(conn, ids)


async def lock_for_consent(conn: Conn, person_ids: list[int]) -> None:
    """On PostgreSQL, lock these people's rows as a consent change does, in id order across
    every slice, so two batches never wait on each other in a circle. SQLite's one writer
    needs no row locks."""
    if conn.dialect != "postgresql":
        return
    for part in _slices(sorted(set(person_ids))):
        listed, names = _listed("i", part)
        await conn.execute(
            f"SELECT id FROM people WHERE id IN ({listed}) ORDER BY id FOR NO KEY UPDATE", names
        )


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


async def set_blocked(conn: Conn, person_id: int, *, blocked: bool, now: str) -> None:
    """Only consent/commands calls this: blocking is part of a consent change."""
    await conn.execute(
        "UPDATE people SET blocked = :blocked, updated_at = :now WHERE id = :id",
        {"blocked": int(blocked), "now": now, "id": person_id},
    )


# Batched forms for an import's chunk: a few statements for a few hundred rows. Lists of ids
# or numbers go in slices, as SQLite caps the number of bound parameters in one statement.
# Multi-row inserts go in smaller ones: sqlite3 looks each `:name` up by a linear scan of the
# statement's names, so one statement's binding costs the square of its parameters.
_SLICE = 500
INSERT_SLICE = 50


def _slices(items: list, size: int = _SLICE):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _listed(prefix: str, items: list) -> tuple[str, dict]:
    """`:p0, :p1, ...` for an IN list, and the values it names."""
    names = {f"{prefix}{n}": item for n, item in enumerate(items)}
    return ", ".join(f":{name}" for name in names), names


async def by_ids(conn: Conn, person_ids: list[int]) -> dict[int, Row]:
    """`by_id` for many people at once, by id."""
    found: dict[int, Row] = {}
    for part in _slices(sorted(set(person_ids))):
        listed, values = _listed("i", part)
        rows = await conn.fetch_all(_PERSON_WITH_STATE + f" WHERE p.id IN ({listed})", values)
        found.update((row.id, row) for row in rows)
    return found


async def with_phones(conn: Conn, phones: list[str]) -> list[Row]:
    """`with_phone` for many numbers at once: everyone who has one of them."""
    found: list[Row] = []
    for part in _slices(sorted(set(phones))):
        listed, values = _listed("p", part)
        found += await conn.fetch_all(
            _PERSON_WITH_STATE + f" WHERE p.cell_phone IN ({listed}) ORDER BY p.id", values
        )
    return found


async def create_families(conn: Conn, names: list[str], *, now: str) -> dict[str, int]:
    """`create_family` for many distinct names at once: the new families' ids by name."""
    if len(set(names)) != len(names):
        raise ValueError("family names in one batch must differ: the names tell their ids apart")
    ids: dict[str, int] = {}
    for part in _slices(names, INSERT_SLICE):
        listed = ", ".join(f"(:n{n}, :now)" for n in range(len(part)))
        values = {f"n{n}": name for n, name in enumerate(part)} | {"now": now}
        rows = await conn.fetch_all(
            f"INSERT INTO families (name, created_at) VALUES {listed} RETURNING id, name", values
        )
        ids.update((row.name, row.id) for row in rows)
    return ids


_CREATE_COLUMNS = ("family_id", "kind", "first_name", "last_name", "email", "cell_phone")


async def create_many(conn: Conn, people: list[dict], *, now: str) -> list[int]:
    """`create` for many people at once (none an account holder), each dict giving its
    arguments; their new ids, in the order given. No two may share family, kind and names."""
    key_of = {tuple(person[c] for c in _CREATE_COLUMNS[:4]): n for n, person in enumerate(people)}
    if len(key_of) != len(people):
        raise ValueError("people in one batch must differ: their names tell their ids apart")
    ids: list[int] = [0] * len(people)
    for part in _slices(people, INSERT_SLICE):
        values: dict = {"now": now}
        tuples = []
        for n, person in enumerate(part):
            values.update({f"{c}_{n}": person[c] for c in _CREATE_COLUMNS})
            values[f"last4_{n}"] = last4(person["cell_phone"])
            listed = ", ".join(f":{c}_{n}" for c in _CREATE_COLUMNS)
            tuples.append(f"({listed}, :last4_{n}, 0, :now, :now)")
        rows = await conn.fetch_all(
            "INSERT INTO people (family_id, kind, first_name, last_name, email, cell_phone,"
            " phone_last4, is_account_holder, created_at, updated_at) VALUES "
            + ", ".join(tuples)
            + " RETURNING id, family_id, kind, first_name, last_name",
            values,
        )
        for row in rows:
            ids[key_of[tuple(row[c] for c in _CREATE_COLUMNS[:4])]] = row.id
    return ids
