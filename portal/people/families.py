"""Staff work on families: create and rename them, take in a person with consent recorded at
intake, edit, invite, move a student, archive and un-archive; each one in the audit trail.

Every function runs inside the caller's one write transaction and records its staff action
there too, so a change and its audit line are written together or not at all. Consent is
changed only through portal/consent/commands, never here.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from portal.accounts import invitations
from portal.clock import to_db
from portal.consent import commands
from portal.consent.rules import Actor
from portal.db import Conn, Row, staff_actions
from portal.db import accounts as account_rows
from portal.db import families as family_rows
from portal.db import people as people_rows

if TYPE_CHECKING:
    from portal.context import PortalContext

PAGE_SIZE = 50
MAX_FAMILY_NAME = 120


class Refused(Exception):
    """A family change that cannot be made, in words for the screen. Nothing was changed."""


def family_name_problem(name: str) -> str | None:
    if not name:
        return "Enter the family's name."
    if len(name) > MAX_FAMILY_NAME:
        return f"Use at most {MAX_FAMILY_NAME} characters."
    if any(ord(ch) < 32 for ch in name):
        return "A name cannot contain line breaks or control characters."
    return None


def cursor_of(row: Row) -> str:
    """The keyset position after a family, for the next page's link."""
    return f"{row.sort_name}\x1f{row.id}"


def read_cursor(value: str) -> tuple[str, int] | None:
    """A position from a link, or None when it is missing or has been tampered with."""
    parts = value.split("\x1f")
    if len(parts) != 2 or not parts[1].isdigit() or len(parts[1]) > 18:
        return None
    return parts[0], int(parts[1])


async def _audit(
    conn: Conn,
    ctx: PortalContext,
    actor: Actor,
    action: str,
    kind: str,
    subject_id: int,
    details: dict[str, Any],
) -> None:
    await staff_actions.record(
        conn,
        account_id=actor.account_id,
        action=action,
        subject_kind=kind,
        subject_id=subject_id,
        details=details,
        ip=actor.ip,
        now=to_db(ctx.now()),
    )


async def create_family(conn: Conn, ctx: PortalContext, *, name: str, actor: Actor) -> int:
    family_id = await people_rows.create_family(conn, name=name, now=to_db(ctx.now()))
    await _audit(conn, ctx, actor, "family.created", "family", family_id, {"name": name})
    return family_id


async def rename_family(
    conn: Conn, ctx: PortalContext, *, family: Row, name: str, actor: Actor
) -> None:
    if name == family.name:
        return  # a form saved as it was shown: nothing to rename or record
    await family_rows.rename(conn, family.id, name=name)
    details = {"from": family.name, "to": name}
    await _audit(conn, ctx, actor, "family.renamed", "family", family.id, details)


async def email_problem(conn: Conn, email: str | None, person_id: int | None = None) -> str | None:
    """Logins are by email, so two contacts (or a contact and any login) never share one."""
    if not email:
        return None
    holder = await account_rows.by_email(conn, email)
    taken_by_login = holder is not None and (person_id is None or holder.person_id != person_id)
    if taken_by_login or await people_rows.email_taken(conn, email, except_person_id=person_id):
        return "Another contact already uses that email address."
    return None


@dataclasses.dataclass(frozen=True)
class Intake:
    """A new contact or student as staff typed them, validated and normalised, with the
    consent they gave at intake: the Text Opt-In box and how they agreed."""

    kind: str  # contact | student
    first_name: str
    last_name: str
    email: str | None
    cell_phone: str | None
    text_opt_in: bool = False
    evidence_type: str = ""
    note: str = ""


async def add_person(
    conn: Conn, ctx: PortalContext, *, family: Row, intake: Intake, actor: Actor
) -> int:
    """Create the person and record their consent in the same transaction: a refusal (no
    evidence, a number that replied STOP) raises out of it, and nothing is saved."""
    person_id = await people_rows.create(
        conn,
        family_id=family.id,
        kind=intake.kind,
        first_name=intake.first_name,
        last_name=intake.last_name,
        email=intake.email if intake.kind == "contact" else None,
        cell_phone=intake.cell_phone,
        now=to_db(ctx.now()),
    )
    if intake.text_opt_in:
        await commands.staff_set_texting(
            conn,
            ctx,
            person_id=person_id,
            allow=True,
            actor=actor,
            evidence_type=intake.evidence_type,
            note=intake.note,
        )
    details = {"family_id": family.id, "family": family.name, "text_opt_in": intake.text_opt_in}
    await _audit(conn, ctx, actor, "person.added", "person", person_id, details)
    return person_id


async def edit_person(
    conn: Conn, ctx: PortalContext, *, person: Row, edit: commands.PersonEdit, actor: Actor
) -> None:
    """Names, email and cell phone. The texting switch is not part of a staff edit (it has its
    own evidence rules on the person's page), so a new number only resets consent (rule 6)."""
    await commands.update_person(conn, ctx, person=person, edit=edit, actor=actor)
    before = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email,
        "cell_phone": person.cell_phone,
    }
    # What it was and what it became: an address changed by staff is where the next CLICK
    # HERE goes, so the proof must be able to show who changed it, and from what.
    changed = {
        key: {"from": value, "to": getattr(edit, key)}
        for key, value in before.items()
        if getattr(edit, key) != value
    }
    if changed:
        await _audit(
            conn, ctx, actor, "person.details_edited", "person", person.id, {"changed": changed}
        )


async def invite(conn: Conn, ctx: PortalContext, *, person: Row, actor: Actor, by: str) -> None:
    """The portal invitation email with its set-password link. Raises invitations.CannotInvite."""
    if person.archived_at:
        raise invitations.CannotInvite(f"{person.first_name} is archived: un-archive them first.")
    await invitations.invite(conn, ctx, person=person, invited_by=by)
    await _audit(conn, ctx, actor, "person.invited", "person", person.id, {"email": person.email})


async def move_student(
    conn: Conn, ctx: PortalContext, *, person: Row, to_family: Row, from_family: Row, actor: Actor
) -> None:
    """A student changes family; their consent and their ledger stay exactly as they were."""
    if person.kind != "student":
        raise Refused("Only students move between families. Add the contact to the other family.")
    if to_family.id == person.family_id:
        raise Refused(f"{person.first_name} is already in the {to_family.name} family.")
    await family_rows.move_person(conn, person.id, to_family_id=to_family.id, now=to_db(ctx.now()))
    details = {
        "from_family_id": from_family.id,
        "from_family": from_family.name,
        "to_family_id": to_family.id,
        "to_family": to_family.name,
    }
    await _audit(conn, ctx, actor, "person.moved", "person", person.id, details)


async def set_archived(
    conn: Conn, ctx: PortalContext, *, person: Row, archived: bool, actor: Actor
) -> None:
    """A person who has left drops out of lists, searches and sends; their ledger stays."""
    if bool(person.archived_at) == archived:
        return  # a double click: already done, nothing more to record
    now = to_db(ctx.now())
    await family_rows.set_archived(conn, person.id, archived_at=now if archived else None, now=now)
    action = "person.archived" if archived else "person.unarchived"
    await _audit(conn, ctx, actor, action, "person", person.id, {})
