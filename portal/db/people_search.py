"""The staff People search: one page of people matching what was typed and the filters
chosen, ordered by name and paged by keyset, on indexes whatever the district's size."""

from __future__ import annotations

from portal.db import Conn, Row

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
