"""Asking people for consent by email: staff and CLI requests, and "email me a new link"."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING

from portal.clock import to_db
from portal.consent import notices
from portal.consent.rules import Status
from portal.db import Conn
from portal.db import links as link_rows
from portal.db import people as people_rows

if TYPE_CHECKING:
    from portal.context import PortalContext

# "Email me a new link" sends at most this many consent links per person per hour, so a
# page left open (or a script) cannot flood anyone's inbox.
NEW_LINKS_PER_HOUR = 3


@dataclasses.dataclass
class RequestReport:
    sent: list[int] = dataclasses.field(default_factory=list)
    skipped: dict[int, str] = dataclasses.field(default_factory=dict)


def why_not_askable(person, *, even_if_answered: bool = False) -> str | None:
    """Why a person cannot be sent an opt-in request, or None if they can. Someone who
    already answered for their number is not asked again by the office; they may ask for a
    new link themselves (`even_if_answered`)."""
    if person is None:
        return "no such person"
    if person.archived_at:
        return "archived: has left the organization"
    if not person.cell_phone:
        return "no cell phone"
    if not person.email:
        return "no email address"
    if not person.email_confirmed:
        return "email address typed by someone else, not yet confirmed"
    if person.suppressed:
        return "number replied STOP: only START from the phone lifts it"
    if person.blocked:
        return "texting blocked"
    answered = person.consent_phone == person.cell_phone
    if not even_if_answered and answered and person.status == Status.OPTED_IN:
        return "already answered: texts allowed"
    if not even_if_answered and answered and person.status == Status.OPTED_OUT:
        return "already answered: said no"
    return None


async def request_consent(
    conn: Conn, ctx: PortalContext, person_ids: list[int], *, requested_by: str
) -> RequestReport:
    """Email a Yes/No link to each person who can answer one (staff screens, CLI)."""
    report = RequestReport()
    people = await people_rows.locked_for_requests(conn, person_ids)
    askable = []
    for person_id in person_ids:
        person = people.get(person_id)
        reason = why_not_askable(person)
        if reason:
            report.skipped[person_id] = reason
            continue
        askable.append(person)
        report.sent.append(person_id)
    await notices.queue_consent_requests(conn, ctx, people=askable, requested_by=requested_by)
    return report


async def never_answered(conn: Conn) -> list[int]:
    """Everyone with a cell phone who has never answered (no consent state for that number)."""
    return [
        p.id
        for p in await people_rows.all_people(conn)
        if p.cell_phone and (p.status == Status.NONE or p.consent_phone != p.cell_phone)
    ]


async def send_fresh_link(conn: Conn, ctx: PortalContext, person_id: int) -> bool:
    """A new link to the address on file, within the hourly limit. True when one was queued."""
    since = to_db(ctx.now() - dt.timedelta(hours=1))
    recent = await link_rows.count_recent(
        conn,
        purpose=ctx.consent_links.purpose,
        person_id=person_id,
        account_id=None,
        since=since,
    )
    if recent >= NEW_LINKS_PER_HOUR:
        return False
    person = await people_rows.by_id(conn, person_id)
    if why_not_askable(person, even_if_answered=True):
        return False
    await notices.queue_consent_request(conn, ctx, person=person)
    return True
