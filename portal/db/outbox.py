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
    await conn.insert_many("outbox", _ADD_MANY_COLUMNS, rows)


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


# Each outcome is written only by the dispatcher that holds the row's lease: a row whose
# lease expired and was taken over is the new owner's to mark. A batch's outcomes of one kind
# go in one executemany.


async def anything_due(conn: Conn, *, now: str) -> bool:
    """Whether any row is due and not leased: an idle dispatcher's look, a read."""
    return bool(
        await conn.fetch_val(
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE status = 'pending'"
            " AND next_attempt_at <= :now AND (lease_until IS NULL OR lease_until <= :now))",
            {"now": now},
        )
    )


async def mark_sent(
    conn: Conn, sent: list[tuple[int, str | None, str | None]], *, owner: str, now: str
) -> None:
    """`sent`: (outbox id, provider id, provider status) of each row delivered."""
    await conn.execute_many(
        "UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1,"
        " lease_owner = NULL, lease_until = NULL, last_error = '', provider_id = ?,"
        " provider_status = ? WHERE id = ? AND lease_owner = ?",
        [(now, pid, pstatus, outbox_id, owner) for outbox_id, pid, pstatus in sent],
    )


async def mark_retry(conn: Conn, retries: list[tuple[int, str, str]], *, owner: str) -> None:
    """`retries`: (outbox id, error, next attempt at) of each row to try again, one attempt
    more."""
    await conn.execute_many(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?,"
        " next_attempt_at = ?, lease_owner = NULL, lease_until = NULL"
        " WHERE id = ? AND lease_owner = ?",
        [(error[:1000], due, outbox_id, owner) for outbox_id, error, due in retries],
    )


async def mark_later(conn: Conn, later: list[tuple[int, str, str]], *, owner: str) -> None:
    """Try again later without counting an attempt: the provider asked us to slow down.
    `later`: (outbox id, error, next attempt at)."""
    await conn.execute_many(
        "UPDATE outbox SET last_error = ?, next_attempt_at = ?, lease_owner = NULL,"
        " lease_until = NULL WHERE id = ? AND lease_owner = ?",
        [(error[:1000], due, outbox_id, owner) for outbox_id, error, due in later],
    )


async def mark_final(conn: Conn, final: list[tuple[int, str, str]], *, owner: str) -> None:
    """`failed` (the server refused for good) or `blocked` (may_text said no at send time).
    `final`: (outbox id, status, error)."""
    await conn.execute_many(
        "UPDATE outbox SET status = ?, attempts = attempts + 1, last_error = ?,"
        " lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?",
        [(status, error[:1000], outbox_id, owner) for outbox_id, status, error in final],
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
