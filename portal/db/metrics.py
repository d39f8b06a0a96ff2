"""Queries for the texting metrics: texts, segments and deliveries per day, and the opt-outs
that followed each mass text."""

from __future__ import annotations

from portal.db import Conn, Row

# Texts staff wrote (a mass text or a reply in a conversation); every other text is automatic
# (keyword replies, opt-in confirmations, notices).
_KIND = "CASE WHEN template IN ('mass_text', 'staff_reply') THEN 'staff' ELSE 'automatic' END"


async def texts_by_day(conn: Conn, since: str) -> list[Row]:
    """Texts sent per UTC day since `since`, staff and automatic apart: how many, their
    segments, and how many the phone company reported delivered. One range over the index
    outbox_sent_by_day, grouped in the database."""
    return await conn.fetch_all(
        "SELECT substr(sent_at, 1, 10) AS day, " + _KIND + " AS kind,"
        " COUNT(*) AS texts, SUM(segments) AS segments,"
        " SUM(CASE WHEN provider_status IN ('delivered', 'read') THEN 1 ELSE 0 END)"
        "  AS delivered"
        " FROM outbox WHERE status = 'sent' AND sent_at >= :since AND channel = 'sms'"
        " GROUP BY substr(sent_at, 1, 10), " + _KIND + " ORDER BY day, kind",
        {"since": since},
    )


async def recent_mass_texts(conn: Conn, limit: int = 20) -> list[Row]:
    """The latest mass texts with when their first text went out (None if none has yet)."""
    return await conn.fetch_all(
        "SELECT m.id, m.body, m.created_at,"
        " (SELECT MIN(o.sent_at) FROM outbox o WHERE o.mass_text_id = m.id"
        "  AND o.status = 'sent') AS first_sent"
        " FROM mass_texts m ORDER BY m.id DESC LIMIT :limit",
        {"limit": limit},
    )


async def opt_outs_after(conn: Conn, mass_text_id: int, *, start: str, end: str) -> int:
    """How many of a mass text's recipients opted out between `start` and `end`."""
    return await conn.fetch_val(
        "SELECT COUNT(DISTINCT e.person_id) FROM consent_events e"
        " WHERE e.created_at >= :start AND e.created_at < :end"
        " AND e.new_status = 'opted_out' AND e.person_id IN"
        " (SELECT o.person_id FROM outbox o WHERE o.mass_text_id = :id)",
        {"id": mass_text_id, "start": start, "end": end},
    )
