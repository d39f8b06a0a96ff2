"""Conversations with one number: who has it, and a staff reply to it, which goes out only
to a person with that number who may be texted (rule 2). The keyword replies (STOP, HELP,
START) are automatic and live in portal/replies/; nothing here answers them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from portal.clock import to_db
from portal.consent import rules
from portal.db import Conn, Row, staff_actions
from portal.db import people as people_rows
from portal.messaging import mass_texts, outbox
from portal.messaging.mass_texts import BadText

if TYPE_CHECKING:
    from portal.context import PortalContext


def _reason(person: Row) -> str | None:
    """Why this person may not be texted (a skip reason code), or None if they may."""
    if person.archived_at:
        return "archived"
    code = rules.texting_status(person).code
    return None if code == "allowed" else code


def addressee(people: list[Row]) -> tuple[Row | None, str]:
    """The person a reply to their number is sent as (a contact before a student), or None
    and the reason nobody may be texted at it (the first person's)."""
    if not people:
        return None, "nobody_has_number"
    for person in people:
        if _reason(person) is None:
            return person, ""
    return None, _reason(people[0]) or "not_allowed"


async def reply(
    ctx: PortalContext, *, phone: str, body: str, account_id: int, ip: str
) -> tuple[int, Row]:
    """Queue a staff reply to a number; BadText when it is empty or too long, Refused when
    nobody with the number may be texted. The dispatcher asks consent again (rule 2)."""
    body = body.replace("\r\n", "\n")
    if not body.strip():
        raise BadText("empty")
    mass_texts.check_length([body])
    now = ctx.now()
    async with ctx.db.write() as conn:
        # Asked inside the write transaction: a STOP recorded meanwhile is seen here.
        person, reason = addressee(await _by_kind(conn, phone))
        if person is None:
            raise Refused(reason)
        outbox_id = await outbox.queue_text(
            conn,
            ctx,
            template="staff_reply",
            to=phone,
            body=body,
            person_id=person.id,
            requires_consent=True,
        )
        await staff_actions.record(
            conn,
            account_id=account_id,
            action="text_reply",
            subject_kind="person",
            subject_id=person.id,
            details={"phone": phone, "outbox_id": outbox_id},
            ip=ip,
            now=to_db(now),
        )
    return outbox_id, person


async def _by_kind(conn: Conn, phone: str) -> list[Row]:
    people = await people_rows.with_phone(conn, phone)
    return sorted(people, key=lambda p: (p.kind != "contact", p.id))


class Refused(ValueError):
    """Nobody with the number may be texted; `code` is a skip reason (or nobody_has_number)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code
        self.detail = ""
