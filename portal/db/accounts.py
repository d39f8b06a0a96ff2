"""Queries for login accounts (account holders and staff) and their server-side sessions."""

from __future__ import annotations

from portal.db import Conn, Row

_ACCOUNT = """
SELECT a.id, a.email, a.password_hash, a.role, a.staff_role, a.person_id, a.display_name,
       a.can_text, a.disabled, a.password_changed_at, p.family_id
FROM accounts a LEFT JOIN people p ON p.id = a.person_id
"""


async def create(
    conn: Conn,
    *,
    email: str,
    password_hash: str,
    role: str,
    person_id: int | None,
    display_name: str,
    can_text: bool = False,
    staff_role: str = "",
    now: str,
) -> int:
    return await conn.fetch_val(
        "INSERT INTO accounts (email, password_hash, role, staff_role, person_id, display_name,"
        " can_text, created_at, password_changed_at)"
        " VALUES (:email, :hash, :role, :staff_role, :person_id, :name, :can_text, :now, :now)"
        " RETURNING id",
        {
            "email": email.lower(),
            "hash": password_hash,
            "role": role,
            "staff_role": staff_role,
            "person_id": person_id,
            "name": display_name,
            "can_text": int(can_text),
            "now": now,
        },
    )


async def by_email(conn: Conn, email: str) -> Row | None:
    return await conn.fetch_one(_ACCOUNT + " WHERE a.email = :email", {"email": email.lower()})


async def by_id(conn: Conn, account_id: int) -> Row | None:
    return await conn.fetch_one(_ACCOUNT + " WHERE a.id = :id", {"id": account_id})


async def by_person(conn: Conn, person_id: int) -> Row | None:
    return await conn.fetch_one(_ACCOUNT + " WHERE a.person_id = :id", {"id": person_id})


async def set_password(conn: Conn, account_id: int, password_hash: str, now: str) -> None:
    await conn.execute(
        "UPDATE accounts SET password_hash = :hash, password_changed_at = :now WHERE id = :id",
        {"hash": password_hash, "now": now, "id": account_id},
    )


async def upgrade_password_hash(conn: Conn, account_id: int, *, old: str, new: str) -> None:
    """The same password under a stronger hash. Not a password change: password_changed_at
    stays, so reset links and sessions are untouched. Only if no change happened meanwhile."""
    await conn.execute(
        "UPDATE accounts SET password_hash = :new WHERE id = :id AND password_hash = :old",
        {"new": new, "old": old, "id": account_id},
    )


async def set_identity(conn: Conn, account_id: int, *, email: str, display_name: str) -> None:
    await conn.execute(
        "UPDATE accounts SET email = :email, display_name = :name WHERE id = :id",
        {"email": email.lower(), "name": display_name, "id": account_id},
    )


async def count_real(conn: Conn, demo_domain: str) -> int:
    """Accounts that are not part of the demo data."""
    return await conn.fetch_val(
        "SELECT COUNT(*) FROM accounts WHERE email NOT LIKE :pattern",
        {"pattern": f"%@{demo_domain}"},
    )


# --- sessions -------------------------------------------------------------------------------


async def create_session(
    conn: Conn,
    *,
    id_hash: str,
    account_id: int,
    now: str,
    expires_at: str,
    ip: str,
    user_agent: str,
) -> None:
    await conn.execute(
        "INSERT INTO sessions (id_hash, account_id, created_at, last_seen_at, expires_at, ip,"
        " user_agent) VALUES (:h, :a, :now, :now, :exp, :ip, :ua)",
        {
            "h": id_hash,
            "a": account_id,
            "now": now,
            "exp": expires_at,
            "ip": ip,
            "ua": user_agent[:400],
        },
    )


async def session_account(conn: Conn, id_hash: str, now: str, idle_since: str) -> Row | None:
    """The live session's account, the family it acts for and the organization's name, in one
    query (every logged-in page pays it); None if past its absolute end (expires_at), unused
    since `idle_since`, or the account is disabled."""
    return await conn.fetch_one(
        "SELECT a.id, a.email, a.role, a.staff_role, a.person_id, a.display_name, a.can_text,"
        " p.family_id, p.language, s.id_hash AS session_hash, s.last_seen_at,"
        " o.name AS org_name, o.phone AS org_phone"
        " FROM sessions s JOIN accounts a ON a.id = s.account_id"
        " LEFT JOIN people p ON p.id = a.person_id"
        " CROSS JOIN organization o"
        " WHERE s.id_hash = :h AND s.expires_at > :now AND s.last_seen_at > :idle"
        " AND a.disabled = 0",
        {"h": id_hash, "now": now, "idle": idle_since},
    )


async def touch_session(conn: Conn, id_hash: str, now: str, *, unless_since: str) -> None:
    """Record a use, unless one was recorded since `unless_since` (two requests at once)."""
    await conn.execute(
        "UPDATE sessions SET last_seen_at = :now WHERE id_hash = :h AND last_seen_at <= :since",
        {"now": now, "h": id_hash, "since": unless_since},
    )


async def delete_session(conn: Conn, id_hash: str) -> None:
    await conn.execute("DELETE FROM sessions WHERE id_hash = :h", {"h": id_hash})


async def delete_sessions_of(conn: Conn, account_id: int, keep: str | None = None) -> None:
    await conn.execute(
        "DELETE FROM sessions WHERE account_id = :a AND id_hash != :keep",
        {"a": account_id, "keep": keep or ""},
    )


async def delete_expired_sessions(conn: Conn, now: str, idle_since: str) -> None:
    await conn.execute(
        "DELETE FROM sessions WHERE expires_at <= :now OR last_seen_at <= :idle",
        {"now": now, "idle": idle_since},
    )


# --- login throttling -----------------------------------------------------------------------


async def lock_throttle(conn: Conn) -> None:
    """Make count-then-reserve atomic. SQLite's BEGIN IMMEDIATE already serialises writers;
    PostgreSQL's READ COMMITTED would let two logins both count 4 and both go ahead."""
    if conn.dialect == "postgresql":
        await conn.execute("LOCK TABLE throttle_hits IN SHARE ROW EXCLUSIVE MODE")


async def record_failure(conn: Conn, keys: list[str], now: str) -> list[int]:
    """One hit per key; returns their ids (a login reserves its attempt before checking)."""
    return [
        await conn.fetch_val(
            "INSERT INTO throttle_hits (key, at) VALUES (:k, :now) RETURNING id",
            {"k": key, "now": now},
        )
        for key in keys
    ]


async def failures_since(conn: Conn, key: str, since: str) -> int:
    return await conn.fetch_val(
        "SELECT COUNT(*) FROM throttle_hits WHERE key = :k AND at > :since",
        {"k": key, "since": since},
    )


async def latest_failure(conn: Conn, key: str) -> str | None:
    return await conn.fetch_val("SELECT MAX(at) FROM throttle_hits WHERE key = :k", {"k": key})


async def forget_hits(conn: Conn, ids: list[int]) -> None:
    for hit_id in ids:
        await conn.execute("DELETE FROM throttle_hits WHERE id = :id", {"id": hit_id})


async def clear_failures(conn: Conn, key: str) -> None:
    await conn.execute("DELETE FROM throttle_hits WHERE key = :k", {"k": key})


async def forget_old_failures(conn: Conn, before: str) -> None:
    await conn.execute("DELETE FROM throttle_hits WHERE at <= :before", {"before": before})


# --- staff logins ---------------------------------------------------------------------------

# A login with no password yet: invited, the emailed link not used. Nothing verifies against
# it (passwords.verify refuses an empty hash), so it cannot log in until the link is used.
NO_PASSWORD = ""


async def staff_logins(conn: Conn) -> list[Row]:
    """Every staff login, active ones first, by name."""
    return await conn.fetch_all(
        "SELECT id, email, display_name, staff_role, disabled, created_at,"
        " password_hash = '' AS invited FROM accounts WHERE role = 'staff'"
        " ORDER BY disabled, lower(display_name), id"
    )


async def active_admins(conn: Conn) -> list[int]:
    """Ids of the admins who can act: enabled, with a password. Inside a write transaction:
    on PostgreSQL the rows are locked, so two admins demoting each other at the same moment
    cannot both pass the last-admin check (SQLite's BEGIN IMMEDIATE already serialises)."""
    lock = " FOR UPDATE" if conn.dialect == "postgresql" else ""
    rows = await conn.fetch_all(
        "SELECT id FROM accounts WHERE role = 'staff' AND staff_role = 'admin' AND disabled = 0"
        " AND password_hash != '' ORDER BY id" + lock
    )
    return [row.id for row in rows]


async def set_staff_role(conn: Conn, account_id: int, staff_role: str) -> None:
    await conn.execute(
        "UPDATE accounts SET staff_role = :role WHERE id = :id AND role = 'staff'",
        {"role": staff_role, "id": account_id},
    )


async def set_disabled(conn: Conn, account_id: int, disabled: bool) -> None:
    await conn.execute(
        "UPDATE accounts SET disabled = :disabled WHERE id = :id",
        {"disabled": int(disabled), "id": account_id},
    )
