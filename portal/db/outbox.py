"""Queries for the outbox: queued emails and texts, leased by dispatchers and marked done."""

from __future__ import annotations

from portal.db import Conn, Row

_COLUMNS = (
    "id, channel, template, recipient, person_id, subject, body_text, body_html, message_id,"
    " requires_consent, status, attempts, next_attempt_at, last_error, provider_id,"
    " provider_status, created_at, sent_at, reply_to"
)


async def add(
    conn: Conn,
    *,
    channel: str,
    template: str,
    recipient: str,
    person_id: int | None,
    subject: str,
    body_text: str,
    body_html: str,
    message_id: str,
    requires_consent: bool,
    now: str,
    reply_to: str = "",
    not_before: str | None = None,
    mass_text_id: int | None = None,
    segments: int = 1,
) -> int:
    """`not_before`: when the row is first due (a scheduled text, or one held for sending
    hours); now if not given. `segments`: how many a text is billed as (1 for an email)."""
    return await conn.fetch_val(
        "INSERT INTO outbox (channel, template, recipient, person_id, subject, body_text,"
        " body_html, message_id, requires_consent, next_attempt_at, created_at, reply_to,"
        " mass_text_id, segments)"
        " VALUES (:channel, :template, :recipient, :person_id, :subject, :body_text,"
        " :body_html, :message_id, :requires_consent, :due, :now, :reply_to, :mass_text_id,"
        " :segments)"
        " RETURNING id",
        {
            "channel": channel,
            "template": template,
            "recipient": recipient,
            "person_id": person_id,
            "subject": subject,
            "body_text": body_text,
            "body_html": body_html,
            "message_id": message_id,
            "requires_consent": int(requires_consent),
            "now": now,
            "due": not_before or now,
            "reply_to": reply_to,
            "mass_text_id": mass_text_id,
            "segments": segments,
        },
    )


_ADD_MANY_COLUMNS = (
    "channel",
    "template",
    "recipient",
    "person_id",
    "subject",
    "body_text",
    "body_html",
    "message_id",
    "requires_consent",
    "next_attempt_at",
    "created_at",
    "reply_to",
    "mass_text_id",
    "segments",
)


async def add_many(conn: Conn, rows: list[dict]) -> None:
    """Insert many rows in one executemany (a mass text's chunk). Each row gives every column
    of _ADD_MANY_COLUMNS."""
    await conn.execute_many(
        "INSERT INTO outbox ("
        + ", ".join(_ADD_MANY_COLUMNS)
        + ") VALUES ("
        + ", ".join("?" for _ in _ADD_MANY_COLUMNS)
        + ")",
        [tuple(row[name] for name in _ADD_MANY_COLUMNS) for row in rows],
    )


async def lease_due(
    conn: Conn, *, owner: str, now: str, lease_until: str, limit: int, channel: str
) -> list[Row]:
    """Claim due rows of one channel for one dispatcher; another dispatcher skips rows leased
    and unexpired. Rows that need no consent (keyword replies) come first: they are never
    held behind a mass text."""
    skip_locked = " FOR UPDATE SKIP LOCKED" if conn.dialect == "postgresql" else ""
    return await conn.fetch_all(
        "UPDATE outbox SET lease_owner = :owner, lease_until = :lease_until"
        " WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND channel = :channel"
        " AND next_attempt_at <= :now AND (lease_until IS NULL OR lease_until <= :now)"
        " ORDER BY requires_consent, next_attempt_at, id LIMIT :limit" + skip_locked + ")"
        " RETURNING " + _COLUMNS,
        {
            "owner": owner,
            "now": now,
            "lease_until": lease_until,
            "limit": limit,
            "channel": channel,
        },
    )


async def mark_sent(
    conn: Conn,
    outbox_id: int,
    *,
    owner: str,
    now: str,
    provider_id: str | None = None,
    provider_status: str | None = None,
) -> None:
    await conn.execute(
        "UPDATE outbox SET status = 'sent', sent_at = :now, attempts = attempts + 1,"
        " lease_owner = NULL, lease_until = NULL, last_error = '', provider_id = :pid,"
        " provider_status = :pstatus WHERE id = :id AND lease_owner = :owner",
        {
            "id": outbox_id,
            "owner": owner,
            "now": now,
            "pid": provider_id,
            "pstatus": provider_status,
        },
    )


async def mark_retry(
    conn: Conn, outbox_id: int, *, owner: str, error: str, next_attempt_at: str
) -> None:
    await conn.execute(
        "UPDATE outbox SET attempts = attempts + 1, last_error = :error,"
        " next_attempt_at = :next, lease_owner = NULL, lease_until = NULL"
        " WHERE id = :id AND lease_owner = :owner",
        {"id": outbox_id, "owner": owner, "error": error[:1000], "next": next_attempt_at},
    )


async def mark_later(
    conn: Conn, outbox_id: int, *, owner: str, error: str, next_attempt_at: str
) -> None:
    """Try again later without counting an attempt: the provider asked us to slow down."""
    await conn.execute(
        "UPDATE outbox SET last_error = :error, next_attempt_at = :next, lease_owner = NULL,"
        " lease_until = NULL WHERE id = :id AND lease_owner = :owner",
        {"id": outbox_id, "owner": owner, "error": error[:1000], "next": next_attempt_at},
    )


async def mark_final(conn: Conn, outbox_id: int, *, owner: str, status: str, error: str) -> None:
    """`failed` (the server refused for good) or `blocked` (may_text said no at send time)."""
    await conn.execute(
        "UPDATE outbox SET status = :status, attempts = attempts + 1, last_error = :error,"
        " lease_owner = NULL, lease_until = NULL WHERE id = :id AND lease_owner = :owner",
        {"id": outbox_id, "owner": owner, "status": status, "error": error[:1000]},
    )


async def set_provider_status(
    conn: Conn, provider_id: str, status: str, error: str = ""
) -> Row | None:
    return await conn.fetch_one(
        "UPDATE outbox SET provider_status = :status,"
        " last_error = CASE WHEN :error = '' THEN last_error ELSE :error END"
        " WHERE provider_id = :pid RETURNING " + _COLUMNS,
        {"pid": provider_id, "status": status, "error": error},
    )


async def recent(conn: Conn, *, channel: str | None = None, limit: int = 100) -> list[Row]:
    sql = "SELECT " + _COLUMNS + " FROM outbox"
    values: dict = {"limit": limit}
    if channel:
        sql += " WHERE channel = :channel"
        values["channel"] = channel
    return await conn.fetch_all(sql + " ORDER BY id DESC LIMIT :limit", values)


async def pending_count(conn: Conn) -> int:
    return await conn.fetch_val("SELECT COUNT(*) FROM outbox WHERE status = 'pending'")


async def delivery_trouble(conn: Conn, *, stuck_before: str, failed_since: str) -> Row:
    """What /healthz says of delivery: how many messages are pending; since when the oldest
    message has been stuck (pending, created before `stuck_before`, and failing or due since
    then; None if none is); and how many failed for good since `failed_since` (a failed row's
    next_attempt_at is when its last attempt was due, so when it failed)."""
    return await conn.fetch_one(
        "SELECT (SELECT COUNT(*) FROM outbox WHERE status = 'pending') AS pending,"
        " (SELECT MIN(created_at) FROM outbox WHERE status = 'pending'"
        "  AND created_at <= :stuck AND (attempts > 0 OR next_attempt_at <= :stuck))"
        "  AS stuck_since,"
        " (SELECT COUNT(*) FROM outbox WHERE status = 'failed' AND next_attempt_at >= :since)"
        "  AS failed_recently",
        {"stuck": stuck_before, "since": failed_since},
    )


# A message in trouble, for staff: failed for good, or still pending an hour after it was
# queued (or after staff last retried it) while failing or overdue. A message not yet due
# (one held for later) is not stuck. `:stuck` is the instant an hour ago.
TROUBLED = (
    "(status = 'failed' OR (status = 'pending' AND created_at <= :stuck"
    " AND (retried_at IS NULL OR retried_at <= :stuck)"
    " AND (attempts > 0 OR next_attempt_at <= :stuck)))"
)


async def troubled(conn: Conn, *, stuck_before: str, limit: int = 100) -> list[Row]:
    """Messages that failed for good or are stuck, newest first."""
    return await conn.fetch_all(
        "SELECT "
        + _COLUMNS
        + ", retried_at FROM outbox WHERE "
        + TROUBLED
        + " ORDER BY id DESC LIMIT :limit",
        {"stuck": stuck_before, "limit": limit},
    )


async def requeue(
    conn: Conn, outbox_id: int, *, account_id: int, now: str, stuck_before: str
) -> bool:
    """Send a troubled message again now, keeping its Message-ID (the receiving server can
    tell a retry). A row a dispatcher holds right now keeps its lease: clearing it could send
    the message twice. False when the row is not in trouble (any more)."""
    done = await conn.fetch_val(
        "UPDATE outbox SET status = 'pending', next_attempt_at = :now, lease_owner = NULL,"
        " lease_until = NULL, retried_at = :now, retried_by = :account"
        " WHERE id = :id AND " + TROUBLED + " AND (lease_until IS NULL OR lease_until <= :now)"
        " RETURNING id",
        {"id": outbox_id, "account": account_id, "now": now, "stuck": stuck_before},
    )
    return done is not None


async def texts_to(conn: Conn, phone: str, limit: int = 50) -> list[Row]:
    """The texts sent (or queued, or held back) to one number, newest first."""
    return await conn.fetch_all(
        "SELECT " + _COLUMNS + ", mass_text_id FROM outbox WHERE channel = 'sms'"
        " AND recipient = :phone ORDER BY id DESC LIMIT :limit",
        {"phone": phone, "limit": limit},
    )
