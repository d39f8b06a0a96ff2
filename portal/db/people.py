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
    them for consent. On PostgreSQL their rows are locked first, in id order, with the lock
    a consent change takes (ledger.state_for_update), so the state read is the latest."""
    found: dict[int, Row] = {}
    # In slices: SQLite caps the number of bound parameters in one statement.
    for start in range(0, len(person_ids), 500):
        names = {f"p{i}": person_id for i, person_id in enumerate(person_ids[start : start + 500])}
        marks = ", ".join(f":{name}" for name in names)
        if conn.dialect == "postgresql":
            await conn.execute(
                f"SELECT id FROM people WHERE id IN ({marks}) ORDER BY id FOR NO KEY UPDATE",
                names,
            )
        rows = await conn.fetch_all(_PERSON_WITH_STATE + f" WHERE p.id IN ({marks})", names)
        found.update((row.id, row) for row in rows)
    return found


async def in_saved_list(conn: Conn, list_id: int, *, after: int = 0, limit: int = 500) -> list[Row]:
    """One page of a saved list's people, archived ones too, by id (keyset after `after`)."""
    return await conn.fetch_all(
        _PERSON_WITH_STATE + " JOIN saved_list_members m ON m.person_id = p.id"
        " WHERE m.list_id = :list AND p.id > :after ORDER BY p.id LIMIT :limit",
        {"list": list_id, "after": after, "limit": limit},
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

# Who may hold each status, from an index: a superset the status filter above then narrows.
# A status few people hold is found from those few, then sorted by name; walking everyone in
# name order would read the whole district to fill a page. One many people hold is found
# walking the name index, which soon fills a page, and sorting them all would not.
_HOLDERS_SQL = {
    "stopped": "SELECT phone FROM phone_suppressions WHERE active = 1",
    "blocked": "SELECT id FROM people WHERE blocked = 1",
    "pending": "SELECT person_id FROM consent_state WHERE status = 'pending'",
    "not_allowed": "SELECT person_id FROM consent_state WHERE status = 'opted_out'",
}
_HOLDERS_COLUMN = {"stopped": "p.cell_phone"}
# Up to this many holders a status counts as held by few.
FEW_HOLDERS = 2000


async def _held_by_few(conn: Conn, status: str) -> bool:
    """Whether few hold the status: a count that stops past FEW_HOLDERS, on an index."""
    held = await conn.fetch_val(
        f"SELECT COUNT(*) FROM ({_HOLDERS_SQL[status]} LIMIT {FEW_HOLDERS + 1}) AS holders"
    )
    return held <= FEW_HOLDERS


async def _names_begin_so(conn: Conn, lo: str, hi: str) -> int:
    """How many first or last names fall in [lo, hi), counted on the name indexes up to
    just past FEW_HOLDERS each."""
    found = 0
    for column in ("last_name", "first_name"):
        found += await conn.fetch_val(
            f"SELECT COUNT(*) FROM (SELECT 1 FROM people WHERE lower({column}) >= :lo"
            f" AND lower({column}) < :hi LIMIT {FEW_HOLDERS + 1}) AS names",
            {"lo": lo, "hi": hi},
        )
    return found


_SEARCH = """
SELECT p.id, p.family_id, f.name AS family_name, p.kind, p.first_name, p.last_name, p.email,
       p.cell_phone, p.is_account_holder, p.blocked, p.email_confirmed, p.archived_at,
       p.language, COALESCE(s.status, 'none') AS status, s.phone AS consent_phone,
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
        values["lo"], values["hi"] = _prefix_range(criteria.name_prefix)
        # A beginning many names share ("Ma") is found walking the name order, which soon
        # fills a page: `|| ''` keeps the planner off the name indexes, whose matches it
        # would all sort. A rare one is found on those indexes, then sorted.
        many = await _names_begin_so(conn, values["lo"], values["hi"]) > FEW_HOLDERS
        text = " || ''" if many else ""
        where.append(
            f"((lower(p.last_name{text}) >= :lo AND lower(p.last_name{text}) < :hi)"
            f" OR (lower(p.first_name{text}) >= :lo AND lower(p.first_name{text}) < :hi))"
        )
    if criteria.status:
        where.append(_STATUS_SQL[criteria.status])
        if criteria.status in _HOLDERS_SQL and await _held_by_few(conn, criteria.status):
            column = _HOLDERS_COLUMN.get(criteria.status, "p.id")
            where.append(f"{column} IN ({_HOLDERS_SQL[criteria.status]})")
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
