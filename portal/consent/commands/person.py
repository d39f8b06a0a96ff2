"""Commands on one person: texting on or off, a new phone number, an edited form."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from portal.clock import to_db
from portal.consent import notices
from portal.consent.commands.record import decide, person_event, wording_for
from portal.consent.rules import (
    Actor,
    Change,
    Channel,
    LoginEmail,
    Status,
    email_confirmed_after_edit,
    texting_status,
)
from portal.db import Conn, Row, ledger
from portal.db import accounts as account_rows
from portal.db import people as people_rows

if TYPE_CHECKING:
    from portal.context import PortalContext


async def may_text(conn: Conn, person_id: int) -> bool:
    """Every outgoing text asks this at send time, not only when a list is built (rule 2)."""
    person = await people_rows.by_id(conn, person_id)
    # Someone archived has left the organization: nothing more is sent to them.
    return person is not None and not person.archived_at and texting_status(person).may_text


async def set_texting(
    conn: Conn,
    ctx: PortalContext,
    *,
    person_id: int,
    allow: bool,
    channel: Channel,
    actor: Actor,
    evidence: dict[str, Any] | None = None,
    wording_version: str | None = None,
    record_unchanged: bool = False,
    confirm_by_text: bool = True,
    language: str | None = None,
) -> Change:
    """Turn texting on or off for one person, by any channel but the number-wide keywords.

    `record_unchanged` keeps a person's own answer that repeats their current state (a No
    by email link from someone already opted out): it is still their act, and proof.
    `confirm_by_text=False` only for consent given before the portal knew the person (the
    demo's history), which was confirmed then, not now. `language` is the one the person saw
    the page in or wrote their keyword in, for the ledger; None for staff and imports.
    """
    evidence = dict(evidence or {})
    # The state first, then the person: on PostgreSQL a STOP of this number may hold the
    # state's lock, and the person read after it then sees that STOP (rule 5), not before it.
    state = await ledger.state_for_update(conn, person_id)
    person = await people_rows.by_id(conn, person_id)
    if person is None:
        raise LookupError(person_id)
    old, new, unchanged = decide(
        person, state, allow=allow, channel=channel, actor=actor, evidence=evidence
    )
    if unchanged and not record_unchanged:
        # Same answer again (double click, replayed form): nothing to record or tell.
        return Change(person_id, old, new, None)
    event_id = await person_event(
        conn,
        ctx,
        person=person,
        state=state,
        new=new,
        channel=channel,
        actor=actor,
        evidence=evidence,
        wording_version=wording_version or await wording_for(conn, new),
        language=language,
    )
    await notices.person_changed(
        conn,
        ctx,
        person=person,
        new=new,
        channel=channel,
        actor=actor,
        confirm_by_text=confirm_by_text,
    )
    return Change(person_id, old, new, event_id)


async def change_phone(
    conn: Conn,
    ctx: PortalContext,
    *,
    person_id: int,
    new_phone: str | None,
    actor: Actor,
    ask: bool = True,
) -> Change | None:
    """A new number starts not opted in, and its owner is asked by email (rule 6).

    The caller has already written the person's new details; this records the reset. `ask`
    is False only when the same save goes on to set texting for the new number itself (a
    parent opting in their own new number, or making another contact pending, which asks).
    """
    person = await people_rows.by_id(conn, person_id)
    if person is None:
        raise LookupError(person_id)
    state = await ledger.state_for_update(conn, person_id)
    if state is not None and state.phone == new_phone:
        return None
    old = Status(state.status) if state else Status.NONE
    event_id = await person_event(
        conn,
        ctx,
        person=person,
        state=state,
        new=Status.NONE,
        channel=Channel.PHONE_CHANGE,
        actor=actor,
        evidence={"previous_phone": state.phone if state else None},
        wording_version=None,
        phone=new_phone,
    )
    # Not to a blocked person either: they could not say Yes (the office's requests agree).
    if ask and new_phone and not person.suppressed and not person.blocked:
        await notices.queue_consent_request(conn, ctx, person=person, requested_by=actor.label)
    return Change(person_id, old, Status.NONE, event_id)


@dataclasses.dataclass(frozen=True)
class PersonEdit:
    """A person's details as submitted on an edit form, already validated and normalised.

    `allow_texting_was` is the switch as the form showed it. For the same number, only a
    switch the person moved is a texting choice: saving a form without touching it changes
    nothing (rule 4), even if the status moved on since the form was shown (a Yes or No
    answered meanwhile). A new number takes the switch as saved (rule 6).
    """

    first_name: str
    last_name: str
    email: str | None
    cell_phone: str | None
    allow_texting: bool
    allow_texting_was: bool

    @property
    def switch_moved(self) -> bool:
        return self.allow_texting != self.allow_texting_was


async def update_person(
    conn: Conn,
    ctx: PortalContext,
    *,
    person: Row,
    edit: PersonEdit,
    actor: Actor,
    language: str | None = None,
) -> None:
    """Save an edit form: details first, then the phone reset (rule 6), then the texting
    choice (rule 4), all in the caller's one transaction, so a refusal saves nothing.
    `language`: the one the form's page was shown in, for the ledger."""
    acting_for_self = actor.person_id == person.id
    email_changed = (edit.email or "").lower() != (person.email or "").lower()
    holder = await account_rows.by_person(conn, person.id)
    if email_changed and holder is not None and not acting_for_self and actor.kind == "contact":
        raise LoginEmail(person.first_name)
    phone_changed = edit.cell_phone != person.cell_phone
    await people_rows.update_details(
        conn,
        person.id,
        first_name=edit.first_name,
        last_name=edit.last_name,
        email=edit.email,
        email_confirmed=email_confirmed_after_edit(
            person, edit.email, actor, acting_for_self=acting_for_self
        ),
        cell_phone=edit.cell_phone,
        now=to_db(ctx.now()),
    )
    if holder is not None and edit.email:
        # The login follows the person: same email, and the name the ledger and emails show.
        await account_rows.set_identity(
            conn, holder.id, email=edit.email, display_name=f"{edit.first_name} {edit.last_name}"
        )
    if email_changed and person.email and not acting_for_self and person.kind == "contact":
        # The address on file until now hears of it: a change made behind an adult's back
        # is how someone else would try to answer for them.
        await notices.email_changed_by_other(
            conn, ctx, person=person, new_email=edit.email, actor=actor
        )
    # A new number starts from nothing, so the switch as saved is the choice for it. For the
    # same number only a moved switch is a choice, and it counts as moved only against both
    # what the form showed and what is true now: a stale form (an answer given meanwhile)
    # and a forged `was` both leave consent alone.
    shown_now = texting_status(person).code in ("allowed", "pending")
    moved = edit.switch_moved and edit.allow_texting != shown_now
    turn_on = edit.allow_texting and (moved or phone_changed)
    if phone_changed:
        await change_phone(
            conn, ctx, person_id=person.id, new_phone=edit.cell_phone, actor=actor, ask=not turn_on
        )
    if turn_on:
        await set_texting(
            conn,
            ctx,
            person_id=person.id,
            allow=True,
            channel=Channel.PORTAL,
            actor=actor,
            language=language,
        )
    elif moved and not phone_changed:
        await set_texting(
            conn,
            ctx,
            person_id=person.id,
            allow=False,
            channel=Channel.PORTAL,
            actor=actor,
            language=language,
        )


async def actor_for_account(
    conn: Conn, account_id: int, *, ip: str = "", user_agent: str = ""
) -> Actor:
    return actor_of(await account_rows.by_id(conn, account_id), ip=ip, user_agent=user_agent)


def actor_of(account: Row, *, ip: str = "", user_agent: str = "") -> Actor:
    """The actor for an account row already read (the session's), without reading it again."""
    return Actor(
        kind="staff" if account.role == "staff" else "contact",
        label=f"{account.display_name} <{account.email}>",
        account_id=account.id,
        person_id=account.person_id,
        ip=ip,
        user_agent=user_agent,
    )
