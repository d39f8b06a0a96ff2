"""Login: password check with throttling, server-side sessions, and who is logged in."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import math
import secrets
from typing import TYPE_CHECKING

from portal.accounts import passwords
from portal.clock import from_db, to_db
from portal.db import Row
from portal.db import accounts as account_rows

if TYPE_CHECKING:
    from portal.context import PortalContext

SESSION_COOKIE = "portal_session"

# Login throttling (ASVS 6.3: slow guessing down without letting a guesser lock the owner out).
#
# Every attempt is reserved before argon2 runs: one write transaction counts the recent
# failures and, if the attempt may go ahead, inserts its hits at once. Fifty concurrent
# guesses therefore meet the limit one by one instead of all reading "0 failures" first. A
# successful login takes its own reservation back; a failed one leaves it as the failure.
#
# Three keys, each kept for THROTTLE_WINDOW:
# - this address at this account: MAX_FAILURES_PER_EMAIL, then this address waits out the
#   window for this account. It stops a guesser without touching anyone else.
# - this address at any account: MAX_FAILURES_PER_ADDRESS (one address spraying many emails).
# - this account from any address (a botnet, or proxies that hide addresses): no lockout,
#   only a delay after the latest failure that doubles with each failure past
#   FREE_FAILURES_PER_ACCOUNT and is capped at MAX_ACCOUNT_DELAY. That caps guessing at about
#   60 an hour per account however many addresses try, while the owner, from an address that
#   has not been guessing, waits at most a minute once the guessing pauses, never 15 minutes.
# A guesser who keeps at it could still keep that delay running. So a browser that has logged
# in to the account before carries a signed device cookie for it (OWASP's "device cookies"):
# with it, the account-wide delay does not apply; instead that device alone gets
# MAX_FAILURES_PER_EMAIL per window. The owner's own browser is never slowed by strangers.
MAX_FAILURES_PER_EMAIL = 5
MAX_FAILURES_PER_ADDRESS = 30
THROTTLE_WINDOW = dt.timedelta(minutes=15)
FREE_FAILURES_PER_ACCOUNT = 5
MAX_ACCOUNT_DELAY = dt.timedelta(seconds=60)


DEVICE_COOKIE = "portal_device"
DEVICE_DAYS = 365


def device_token(ctx: PortalContext, email: str) -> str:
    """A new device cookie value: a random id, signed together with the account's email."""
    nonce = secrets.token_urlsafe(16)
    return f"{nonce}.{_device_signature(ctx, email, nonce)}"


def trusted_device(ctx: PortalContext, token: str | None, email: str) -> str | None:
    """The device id when `token` is a device cookie this server made for `email`."""
    nonce, _, signature = (token or "").partition(".")
    if not nonce or len(token) > 200:
        return None
    expected = _device_signature(ctx, email.strip().lower(), nonce)
    return nonce if hmac.compare_digest(signature, expected) else None


def _device_signature(ctx: PortalContext, email: str, nonce: str) -> str:
    key = str(ctx.settings.secret_key).encode()
    return hmac.new(key, f"device:{email}:{nonce}".encode(), hashlib.sha256).hexdigest()[:32]


def hash_session_id(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclasses.dataclass(frozen=True)
class LoginResult:
    account: Row | None
    session_id: str | None = None
    throttled: bool = False
    retry_after: int = 0  # seconds, when throttled
    device_token: str | None = None  # on success: the device cookie to set


def account_delay(failures: int) -> dt.timedelta:
    """How long after its latest failure an account takes its next attempt, from anywhere."""
    if failures < FREE_FAILURES_PER_ACCOUNT:
        return dt.timedelta(0)
    doublings = min(failures - FREE_FAILURES_PER_ACCOUNT, 20)  # 2**20 s is past any cap
    return min(dt.timedelta(seconds=2**doublings), MAX_ACCOUNT_DELAY)


async def _reserve_attempt(conn, keys: dict[str, str], now: dt.datetime, *, trusted: bool):
    """Inside the write transaction: the hit ids reserved, or the seconds to wait. The hits
    always count against the account; a trusted device is not held back by them."""
    await account_rows.lock_throttle(conn)
    since = to_db(now - THROTTLE_WINDOW)
    by_pair = await account_rows.failures_since(conn, keys["pair"], since)
    by_address = await account_rows.failures_since(conn, keys["address"], since)
    if by_pair >= MAX_FAILURES_PER_EMAIL or by_address >= MAX_FAILURES_PER_ADDRESS:
        return int(THROTTLE_WINDOW.total_seconds())
    by_account = await account_rows.failures_since(conn, keys["account"], since)
    if by_account >= FREE_FAILURES_PER_ACCOUNT and not trusted:
        latest = from_db(await account_rows.latest_failure(conn, keys["account"]))
        wait = latest + account_delay(by_account) - now
        if wait > dt.timedelta(0):
            return max(1, math.ceil(wait.total_seconds()))
    return await account_rows.record_failure(conn, list(keys.values()), to_db(now))


async def log_in(
    ctx: PortalContext,
    *,
    email: str,
    password: str,
    ip: str,
    user_agent: str,
    device_cookie: str | None = None,
) -> LoginResult:
    """Check a password; on success open a session. Says nothing of whether the email exists."""
    email = email.strip().lower()[:320]
    now = ctx.now()
    device = trusted_device(ctx, device_cookie, email)
    keys = {
        # A trusted device is limited on its own, wherever it is; anyone else per address.
        "pair": f"login:device:{device}" if device else f"login:email-ip:{email}|{ip}",
        "address": f"login:ip:{ip}",
        "account": f"login:email:{email}",
    }
    async with ctx.db.write() as conn:
        reserved = await _reserve_attempt(conn, keys, now, trusted=device is not None)
        account = await account_rows.by_email(conn, email)
    if isinstance(reserved, int):
        return LoginResult(None, throttled=True, retry_after=reserved)
    # Always run argon2, even for unknown emails, so timing doesn't reveal which exist.
    ok = passwords.verify(account.password_hash if account else None, password)
    if not ok or account is None or account.disabled:
        return LoginResult(None)  # the reserved hits stay: they are this failure
    # Parameters raised since this hash was made: store the same password, hashed as strongly
    # as new ones are. Hashed here, outside the transaction, like every argon2 call.
    stronger = (
        passwords.hash_password(password) if passwords.needs_rehash(account.password_hash) else None
    )
    session_id = secrets.token_urlsafe(32)
    async with ctx.db.write() as conn:
        await account_rows.forget_hits(conn, reserved)
        await account_rows.clear_failures(conn, keys["pair"])
        await account_rows.forget_old_failures(conn, to_db(now - THROTTLE_WINDOW))
        if stronger:
            await account_rows.upgrade_password_hash(
                conn, account.id, old=account.password_hash, new=stronger
            )
        await account_rows.delete_expired_sessions(conn, to_db(now), _idle_since(ctx, now))
        await account_rows.create_session(
            conn,
            id_hash=hash_session_id(session_id),
            account_id=account.id,
            now=to_db(now),
            expires_at=to_db(now + dt.timedelta(days=ctx.settings.session_max_days)),
            ip=ip,
            user_agent=user_agent,
        )
    return LoginResult(account, session_id=session_id, device_token=device_token(ctx, email))


# A session ends SESSION_DAYS after its last use or SESSION_MAX_DAYS after login, whichever
# comes first. A use is written at most once per SESSION_TOUCH_EVERY, so browsing is not a
# database write per page; the idle end is exact to within that hour.
SESSION_TOUCH_EVERY = dt.timedelta(hours=1)


def _idle_since(ctx: PortalContext, now: dt.datetime) -> str:
    return to_db(now - dt.timedelta(days=ctx.settings.session_days))


async def session_account(ctx: PortalContext, conn, session_id: str) -> Row | None:
    """The account of a live session, its use recorded; None when there is no such session."""
    now = ctx.now()
    account = await account_rows.session_account(
        conn, hash_session_id(session_id), to_db(now), _idle_since(ctx, now)
    )
    if account is not None and from_db(account.last_seen_at) <= now - SESSION_TOUCH_EVERY:
        async with ctx.db.write() as writer:
            await account_rows.touch_session(
                writer,
                account.session_hash,
                to_db(now),
                unless_since=to_db(now - SESSION_TOUCH_EVERY),
            )
    return account


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
