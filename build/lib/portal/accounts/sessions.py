"""Login: password check with throttling, server-side sessions, and who is logged in."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import secrets
from typing import TYPE_CHECKING

from portal.accounts import passwords
from portal.clock import to_db
from portal.db import Row
from portal.db import accounts as account_rows

if TYPE_CHECKING:
    from portal.context import PortalContext

SESSION_COOKIE = "portal_session"
# Failed logins allowed in the window before the key is made to wait. Per account email and
# per client address, so spraying one address or many doesn't get far either way.
MAX_FAILURES_PER_EMAIL = 5
MAX_FAILURES_PER_ADDRESS = 30
THROTTLE_WINDOW = dt.timedelta(minutes=15)


def hash_session_id(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclasses.dataclass(frozen=True)
class LoginResult:
    account: Row | None
    session_id: str | None = None
    throttled: bool = False


async def log_in(
    ctx: PortalContext, *, email: str, password: str, ip: str, user_agent: str
) -> LoginResult:
    """Check a password; on success open a session. Says nothing of whether the email exists."""
    email = email.strip().lower()[:320]
    now = ctx.now()
    since = to_db(now - THROTTLE_WINDOW)
    keys = [f"login:email:{email}", f"login:ip:{ip}"]
    async with ctx.db.read() as conn:
        by_email = await account_rows.failures_since(conn, keys[0], since)
        by_address = await account_rows.failures_since(conn, keys[1], since)
        account = await account_rows.by_email(conn, email)
    if by_email >= MAX_FAILURES_PER_EMAIL or by_address >= MAX_FAILURES_PER_ADDRESS:
        return LoginResult(None, throttled=True)
    # Always run argon2, even for unknown emails, so timing doesn't reveal which exist.
    ok = passwords.verify(account.password_hash if account else None, password)
    if not ok or account is None or account.disabled:
        async with ctx.db.write() as conn:
            await account_rows.record_failure(conn, keys, to_db(now))
        return LoginResult(None)
    session_id = secrets.token_urlsafe(32)
    async with ctx.db.write() as conn:
        await account_rows.clear_failures(conn, keys[0])
        await account_rows.forget_old_failures(conn, since)
        await account_rows.delete_expired_sessions(conn, to_db(now))
        await account_rows.create_session(
            conn,
            id_hash=hash_session_id(session_id),
            account_id=account.id,
            now=to_db(now),
            expires_at=to_db(now + dt.timedelta(days=ctx.settings.session_days)),
            ip=ip,
            user_agent=user_agent,
        )
    return LoginResult(account, session_id=session_id)


async def log_out(ctx: PortalContext, session_id: str) -> None:
    async with ctx.db.write() as conn:
        await account_rows.delete_session(conn, hash_session_id(session_id))


async def set_password(
    ctx: PortalContext,
    conn,
    *,
    account_id: int,
    new_password: str,
    keep_session_id: str | None = None,
) -> None:
    """Change a password and end every other session of the account (stolen ones included)."""
    await account_rows.set_password(
        conn, account_id, passwords.hash_password(new_password), to_db(ctx.now())
    )
    keep = hash_session_id(keep_session_id) if keep_session_id else None
    await account_rows.delete_sessions_of(conn, account_id, keep=keep)
