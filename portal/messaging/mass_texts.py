"""Staff texts to many people: check the text, find when it may go out, queue it through the
outbox a few hundred rows per write transaction, in the background after the Send has
answered, and cancel what has not gone out.

Nothing here decides who may be texted: the dispatcher asks consent for each row as it goes
out (the injected gate), so someone who replies STOP meanwhile gets nothing more (rule 2).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import re
import zoneinfo
from collections.abc import Sequence
from typing import TYPE_CHECKING

from portal.clock import to_db
from portal.db import mass_texts as mass_rows
from portal.db import staff_actions
from portal.messaging import outbox, segments
from portal.validation import has_control_characters

if TYPE_CHECKING:
    from portal.context import PortalContext

log = logging.getLogger("portal.mass_texts")

PLACEHOLDERS = ("first_name", "organization")
MAX_SEGMENTS = 10
# Rows per write transaction: one executemany of this many takes a few milliseconds, so a
# STOP arriving meanwhile waits little, and fewer commits (each an fsync) cost less.
CHUNK = 1000
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


class BadText(ValueError):
    """A text staff may not send; `code` says why (its words are in _words.html)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail


@dataclasses.dataclass(frozen=True)
class Recipient:
    person_id: int
    phone: str
    first_name: str
    language: str | None = None  # their saved language; None reads as English


def body_for(body: str, body_es: str | None, language: str | None) -> str:
    """The text a person gets: the Spanish body if theirs is Spanish and there is one, else
    the English."""
    return body_es if language == "es" and body_es else body


def check(body: str) -> None:
    """Refuse an empty text, control characters, or a placeholder that does not exist."""
    if not body.strip():
        raise BadText("empty")
    # A line break is part of a text; a NUL or a right-to-left override is not.
    if has_control_characters(body.replace("\n", "")):
        raise BadText("control_characters")
    for name in _PLACEHOLDER.findall(body):
        if name not in PLACEHOLDERS:
            raise BadText("unknown_placeholder", "{" + name + "}")


def render(body: str, *, first_name: str, organization: str) -> str:
    values = {"first_name": first_name, "organization": organization}
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), body)


def check_length(texts: Sequence[str]) -> segments.Count:
    """The longest of the texts as rendered; refused when one is over MAX_SEGMENTS."""
    longest = max((segments.count(t) for t in texts), key=lambda c: c.segments)
    if longest.segments > MAX_SEGMENTS:
        raise BadText("too_long", str(longest.segments))
    return longest


def check_template(body: str, *, organization: str) -> segments.Count:
    """A saved template gets the checks a composed text gets, counted with the organization's
    name filled in and no first name (the preview counts again with the real names)."""
    check(body)
    return check_length([render(body, first_name="", organization=organization)])


def _hours(spec: str) -> tuple[dt.time, dt.time]:
    start, end = spec.split("-")
    return dt.time.fromisoformat(start), dt.time.fromisoformat(end)


def next_opening(instant: dt.datetime, *, timezone: str, hours: str) -> dt.datetime | None:
    """None when `instant` is inside the sending hours; otherwise the next opening (UTC)."""
    zone = zoneinfo.ZoneInfo(timezone)
    start, end = _hours(hours)
    local = instant.astimezone(zone)
    now = local.time()
    inside = start <= now < end if start < end else (now >= start or now < end)
    if inside:
        return None
    day = local.date() if now < start else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, start, tzinfo=zone).astimezone(dt.UTC)


def due_at(ctx: PortalContext, *, scheduled_for: dt.datetime | None, urgent: bool) -> dt.datetime:
    """When the texts are first due: the schedule or now, moved to the next opening of the
    sending hours unless urgent (urgent only skips the wait; consent is still asked)."""
    base = scheduled_for or ctx.now()
    if urgent:
        return base
    settings = ctx.settings
    opening = next_opening(
        base, timezone=settings.organization_timezone, hours=settings.sending_hours
    )
    return opening or base


def in_local_time(ctx: PortalContext, instant: dt.datetime) -> str:
    """An instant as staff read it: the organization's local date and time, and its zone."""
    zone = zoneinfo.ZoneInfo(ctx.settings.organization_timezone)
    return instant.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def local_time(ctx: PortalContext, value: str) -> dt.datetime:
    """A datetime-local field, read in the organization's time zone; BadText if unreadable
    or not in the future."""
    try:
        naive = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise BadText("bad_time") from exc
    when = naive.replace(tzinfo=zoneinfo.ZoneInfo(ctx.settings.organization_timezone))
    if when <= ctx.now():
        raise BadText("past_time")
    return when.astimezone(dt.UTC)


async def send(
    ctx: PortalContext,
    queueing: Queueing,
    *,
    body: str,
    body_es: str | None = None,
    recipients: Sequence[Recipient],
    skipped_reasons: dict[str, int],
    criteria: str,
    skipped_people: dict[str, list[int]] | None = None,
    send_token: str,
    urgent: bool,
    scheduled_for: dt.datetime | None,
    account_id: int,
    ip: str,
) -> tuple[int, bool]:
    """Record the mass text and start queueing its texts in the background; (id, False) when
    this Send was already clicked (the preview's one-time token), which queues nothing more.
    `body_es`: the Spanish text, for those whose language is Spanish (None: all get `body`).
    `skipped_people`: the ids of those skipped, by reason, kept so the report can name them."""
    now = ctx.now()
    due = due_at(ctx, scheduled_for=scheduled_for, urgent=urgent)
    async with ctx.db.write() as conn:
        # Inside the write transaction: a second click waits for the first, then finds it.
        existing = await mass_rows.by_token(conn, send_token)
        if existing is not None:
            return existing.id, False
        mass_text_id = await mass_rows.create(
            conn,
            body=body,
            body_es=body_es,
            criteria=criteria,
            send_token=send_token,
            urgent=urgent,
            status="scheduled" if scheduled_for else "queued",
            scheduled_for=to_db(scheduled_for) if scheduled_for else None,
            skipped_reasons=skipped_reasons,
            chosen=len(recipients),
            created_by=account_id,
            now=to_db(now),
        )
        await staff_actions.record(
            conn,
            account_id=account_id,
            action="mass_text_send",
            subject_kind="mass_text",
            subject_id=mass_text_id,
            details={
                "recipients": len(recipients),
                "skipped": skipped_reasons,
                "urgent": urgent,
                "scheduled_for": to_db(scheduled_for) if scheduled_for else None,
                "due": to_db(due),
            },
            ip=ip,
            now=to_db(now),
        )
        await mass_rows.add_skips(conn, mass_text_id, skipped_people or {})
    queueing.start(
        _queue_texts(ctx, mass_text_id, body=body, body_es=body_es, recipients=recipients, due=due)
    )
    return mass_text_id, True


async def _queue_texts(
    ctx: PortalContext,
    mass_text_id: int,
    *,
    body: str,
    body_es: str | None,
    recipients: Sequence[Recipient],
    due: dt.datetime,
) -> None:
    """Queue the texts a chunk per write transaction, counting them on the mass text as they
    go (its page shows the progress), until all are queued or it is cancelled."""
    organization = ctx.organization_name
    try:
        for start in range(0, len(recipients), CHUNK):
            async with ctx.db.write() as conn:
                current = await mass_rows.get(conn, mass_text_id)
                if current.status == "cancelled":
                    break  # cancelled while it was being queued: queue nothing more
                chunk = recipients[start : start + CHUNK]
                await outbox.queue_texts(
                    conn,
                    ctx,
                    [
                        outbox.Text(
                            to=r.phone,
                            body=render(
                                body_for(body, body_es, r.language),
                                first_name=r.first_name,
                                organization=organization,
                            ),
                            person_id=r.person_id,
                        )
                        for r in chunk
                    ],
                    template="mass_text",
                    not_before=due,
                    mass_text_id=mass_text_id,
                )
                await mass_rows.add_recipients(conn, mass_text_id, len(chunk))
            await asyncio.sleep(0)  # a STOP or another request takes its turn between chunks
    except Exception as exc:  # the queueing stops, and its page says so
        log.exception("queueing mass text %s failed", mass_text_id)
        async with ctx.db.write() as conn:
            await mass_rows.queued_all(conn, mass_text_id, error=f"{type(exc).__name__}: {exc}")
        return
    async with ctx.db.write() as conn:
        await mass_rows.queued_all(conn, mass_text_id)


class Queueing:
    """The mass texts being queued in this process, so tests (and shutdown) can wait for
    them. A process stopped part-way leaves the rest unqueued; its page says how far it got."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task] = set()

    def start(self, work) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def join(self) -> None:
        """Wait until every queueing started here has finished."""
        await asyncio.gather(*self._tasks)


async def cancel(ctx: PortalContext, mass_text_id: int, *, account_id: int, ip: str) -> int | None:
    """Cancel what has not gone out; None if it was cancelled already."""
    now = to_db(ctx.now())
    async with ctx.db.write() as conn:
        cancelled = await mass_rows.cancel(conn, mass_text_id, now=now)
        if cancelled is not None:
            await staff_actions.record(
                conn,
                account_id=account_id,
                action="mass_text_cancel",
                subject_kind="mass_text",
                subject_id=mass_text_id,
                details={"cancelled_texts": cancelled},
                ip=ip,
                now=now,
            )
    return cancelled
