"""The consent rules (DESIGN.md section 2): the one write path every channel calls.

Portal toggles, staff checkboxes, emailed-link answers, reply keywords, carrier errors, imports
and phone changes all come through the functions here. Each runs inside the caller's write
transaction (`db.write()`): it re-reads the current state, checks the rules, appends a ledger
event, updates current state and queues the notifications, all in that one transaction. None
of them does network I/O.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import TYPE_CHECKING, Any

from portal import outbox, phones
from portal.clock import to_db
from portal.db import Conn, Row, ledger
from portal.db import accounts as account_rows
from portal.db import organization as org_rows
from portal.db import people as people_rows

if TYPE_CHECKING:
    from portal.context import PortalContext

# The words a person agrees to. A published version is never edited: a new wording gets a new
# version, and each ledger event records the version its person saw.
WORDINGS = {
    "2026-11-v1": (
        "{org} may send text messages to {phone} about classes, schedule changes, closures "
        "and your account. Message frequency varies. Message and data rates may apply. "
        "Reply STOP to stop at any time, HELP for help. Consent is not a condition of "
        "enrollment."
    ),
}
CURRENT_WORDING = "2026-11-v1"


def wording_text(version: str, *, org_name: str, phone: str | None) -> str:
    return WORDINGS[version].format(org=org_name, phone=phones.mask(phone) or "your phone")


class Status(enum.StrEnum):
    NONE = "none"  # never answered, or the number changed since
    PENDING = "pending"  # another contact turned it on; waiting for this person's Yes
    OPTED_IN = "opted_in"
    OPTED_OUT = "opted_out"


class Channel(enum.StrEnum):
    PORTAL = "portal"
    STAFF = "staff"
    EMAIL_LINK = "email_link"
    SMS_KEYWORD = "sms_keyword"
    CARRIER = "carrier"
    IMPORT = "import"
    PHONE_CHANGE = "phone_change"


# How each channel is named on screens and in emails.
CHANNEL_WORDS = {
    Channel.PORTAL: "Portal",
    Channel.STAFF: "Staff",
    Channel.EMAIL_LINK: "Email link",
    Channel.SMS_KEYWORD: "Reply text",
    Channel.CARRIER: "Carrier opt-out",
    Channel.IMPORT: "Import",
    Channel.PHONE_CHANGE: "Phone changed",
}


@dataclasses.dataclass(frozen=True)
class Actor:
    """Who made a change: a contact, a staff user, a handset, or someone holding a link."""

    kind: str  # contact | staff | handset | link | system
    label: str
    account_id: int | None = None
    person_id: int | None = None
    ip: str = ""
    user_agent: str = ""


class ConsentError(Exception):
    """A change the rules refuse. The message is written for the person on the screen."""


class StopLocked(ConsentError):
    """The number replied STOP: only START from that number lifts it (rule 5)."""


class NoPhone(ConsentError):
    pass


class NeedsEvidence(ConsentError):
    pass


class NeedsEmail(ConsentError):
    pass


class Blocked(ConsentError):
    pass


@dataclasses.dataclass(frozen=True)
class Change:
    person_id: int
    old_status: str
    new_status: str
    event_id: int | None  # None: nothing changed (a double click, an answer already true)

    @property
    def changed(self) -> bool:
        return self.event_id is not None


# --- reading: the one answer to "may we text this person?" ---------------------------------


@dataclasses.dataclass(frozen=True)
class TextingStatus:
    code: str  # allowed | not_allowed | pending | stopped | no_phone | blocked
    words: str

    @property
    def may_text(self) -> bool:
        return self.code == "allowed"


def texting_status(person: Row, org_phone: str = "") -> TextingStatus:
    """Status of a person row from `db.people` (which joins state and suppression).

    Order matters: a STOP outranks everything, and an opt-in given for an older number does
    not carry over to a new one (rule 6).
    """
    if not person.cell_phone:
        return TextingStatus("no_phone", "No cell phone on file")
    if person.suppressed:
        number = phones.display(org_phone) if org_phone else "our number"
        return TextingStatus(
            "stopped",
            f"This number replied STOP. Text START to {number} to receive texts again.",
        )
    if person.blocked:
        return TextingStatus("blocked", "Texting is blocked by the organization")
    if person.status == Status.OPTED_IN and person.consent_phone == person.cell_phone:
        return TextingStatus("allowed", "Texts allowed")
    if person.status == Status.PENDING and person.consent_phone == person.cell_phone:
        return TextingStatus("pending", f"Waiting for {person.first_name} to confirm")
    return TextingStatus("not_allowed", "Texts not allowed")


async def may_text(conn: Conn, person_id: int) -> bool:
    """Every outgoing text asks this at send time, not only when a list is built (rule 2)."""
    person = await people_rows.by_id(conn, person_id)
    return person is not None and texting_status(person).may_text


# --- writing ----------------------------------------------------------------------------------


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
) -> Change:
    """Turn texting on or off for one person, by any channel but the number-wide keywords.

    `record_unchanged` keeps a person's own answer that repeats their current state (a No
    by email link from someone already opted out): it is still their act, and proof.
    """
    evidence = dict(evidence or {})
    person = await people_rows.by_id(conn, person_id)
    if person is None:
        raise LookupError(person_id)
    state = await ledger.state_for_update(conn, person_id)
    old = Status(state.status) if state else Status.NONE
    phone = person.cell_phone
    current_for_phone = old if state is not None and state.phone == phone else Status.NONE

    if not allow:
        # Opt-out is always immediate, from any channel, for any message (rule 3).
        new = Status.OPTED_OUT
    else:
        new = _opt_in_status(person, channel, actor, evidence)

    if new == current_for_phone and not record_unchanged:
        # Same answer again (double click, replayed form): nothing to record or tell.
        return Change(person_id, old, new, None)

    event_id = await _record(
        conn,
        ctx,
        person=person,
        state=state,
        old=old,
        new=new,
        channel=channel,
        actor=actor,
        evidence=evidence,
        wording_version=wording_version or _wording_for(new),
    )
    await _notify(conn, ctx, person=person, new=new, channel=channel, actor=actor)
    return Change(person_id, old, new, event_id)


def _opt_in_status(person: Row, channel: Channel, actor: Actor, evidence: dict[str, Any]) -> Status:
    """Opt-in needs the person's own act or recorded evidence (rule 4)."""
    if not person.cell_phone:
        raise NoPhone("Add a cell phone number before turning on text messages.")
    if person.suppressed:
        raise StopLocked(
            "This number replied STOP. Only a text of START from that phone can turn texts back on."
        )
    if person.blocked:
        raise Blocked("The organization has blocked texting to this person.")
    if channel in (Channel.STAFF, Channel.IMPORT):
        if not str(evidence.get("note", "")).strip():
            raise NeedsEvidence(
                "Say how this person agreed (paper form, verbal, registration) to opt them in."
            )
        return Status.OPTED_IN
    if channel == Channel.PORTAL:
        acting_for_self = actor.person_id == person.id
        if acting_for_self or person.kind == "student":
            return Status.OPTED_IN
        # Another adult must agree for themselves: they get the Yes/No email.
        if not person.email:
            raise NeedsEmail(
                f"Add an email address for {person.first_name} first: they confirm by email."
            )
        return Status.PENDING
    if channel in (Channel.EMAIL_LINK, Channel.SMS_KEYWORD):
        return Status.OPTED_IN
    raise ConsentError(f"the {channel} channel cannot opt anyone in")


def _wording_for(new: Status) -> str | None:
    return CURRENT_WORDING if new in (Status.OPTED_IN, Status.PENDING) else None


async def _record(
    conn: Conn,
    ctx: PortalContext,
    *,
    person: Row,
    state: Row | None,
    old: Status,
    new: Status,
    channel: Channel,
    actor: Actor,
    evidence: dict[str, Any],
    wording_version: str | None,
    phone: str | None = None,
) -> int:
    """Append the ledger event and write current state beside it: the only place that does."""
    now = to_db(ctx.now())
    phone = person.cell_phone if phone is None else phone
    event_id = await ledger.append_event(
        conn,
        person_id=person.id,
        phone=phone,
        old_status=old,
        new_status=new,
        channel=channel,
        actor_kind=actor.kind,
        actor_account_id=actor.account_id,
        actor_person_id=actor.person_id,
        actor_label=actor.label,
        evidence=evidence,
        wording_version=wording_version,
        ip=actor.ip,
        user_agent=actor.user_agent,
        now=now,
    )
    await ledger.put_state(
        conn,
        person_id=person.id,
        status=new,
        phone=phone,
        version=(state.version if state else 0) + 1,
        event_id=event_id,
        now=now,
    )
    return event_id


async def _notify(
    conn: Conn, ctx: PortalContext, *, person: Row, new: Status, channel: Channel, actor: Actor
) -> None:
    """Queue the emails a change owes (rule 8), in the change's own transaction."""
    organization = await org_rows.get(conn)
    common = {
        "organization": organization,
        "person": person,
        "actor": actor,
        "channel": channel,
        "when": ctx.now(),
    }
    if new == Status.PENDING:
        await queue_consent_request(conn, ctx, person=person, requested_by=actor.label)
    if new == Status.OPTED_OUT and channel != Channel.EMAIL_LINK:
        await outbox.queue_email(conn, ctx, template="org_opt_out", to=organization.email, **common)
    if channel == Channel.EMAIL_LINK:
        await outbox.queue_email(
            conn, ctx, template="org_link_answer", to=organization.email, new_status=new, **common
        )
        if person.email:
            await outbox.queue_email(
                conn,
                ctx,
                template="link_answer_confirmation",
                to=person.email,
                person_id=person.id,
                new_status=new,
                **common,
            )
    elif (
        channel == Channel.PORTAL
        and person.kind == "contact"
        and person.email
        and actor.person_id != person.id
        and new != Status.PENDING
    ):
        # An adult's setting changed by someone else: they hear of it from us.
        await outbox.queue_email(
            conn,
            ctx,
            template="changed_by_other",
            to=person.email,
            person_id=person.id,
            new_status=new,
            **common,
        )


async def queue_consent_request(
    conn: Conn, ctx: PortalContext, *, person: Row, requested_by: str = ""
) -> int | None:
    """Issue a Yes/No link at the person's current consent version and email it to them."""
    if not person.email or not person.cell_phone:
        return None
    state = await ledger.state_for_update(conn, person.id)
    link = await ctx.consent_links.issue(
        conn,
        person_id=person.id,
        phone=person.cell_phone,
        consent_version=state.version if state else 0,
    )
    organization = await org_rows.get(conn)
    return await outbox.queue_email(
        conn,
        ctx,
        template="consent_request",
        to=person.email,
        person_id=person.id,
        organization=organization,
        person=person,
        requested_by=requested_by,
        link_url=ctx.url(f"/text-consent/{link.token}"),
        wording=wording_text(CURRENT_WORDING, org_name=organization.name, phone=person.cell_phone),
    )


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
    event_id = await _record(
        conn,
        ctx,
        person=person,
        state=state,
        old=old,
        new=Status.NONE,
        channel=Channel.PHONE_CHANGE,
        actor=actor,
        evidence={"previous_phone": state.phone if state else None},
        wording_version=None,
        phone=new_phone,
    )
    if ask and new_phone and not person.suppressed:
        await queue_consent_request(conn, ctx, person=person, requested_by=actor.label)
    return Change(person_id, old, Status.NONE, event_id)


async def _number_event(
    conn: Conn,
    ctx: PortalContext,
    *,
    phone: str,
    suppressed: bool,
    channel: Channel,
    actor: Actor,
    evidence: dict[str, Any],
) -> int:
    """A number-wide event (a STOP or its lifting) in the ledger, and the suppression beside
    it. It names no person: it covers whoever has the number, now or later."""
    now = to_db(ctx.now())
    event_id = await ledger.append_event(
        conn,
        person_id=None,
        phone=phone,
        old_status="active" if suppressed else "suppressed",
        new_status="suppressed" if suppressed else "active",
        channel=channel,
        actor_kind=actor.kind,
        actor_account_id=None,
        actor_person_id=None,
        actor_label=actor.label,
        evidence=evidence,
        wording_version=None if suppressed else CURRENT_WORDING,
        ip=actor.ip,
        user_agent=actor.user_agent,
        now=now,
    )
    await ledger.put_suppression(
        conn, phone=phone, active=suppressed, source=channel, event_id=event_id, now=now
    )
    return event_id


@dataclasses.dataclass(frozen=True)
class NumberStop:
    newly_suppressed: bool
    changes: list[Change]

    @property
    def changed(self) -> bool:
        return self.newly_suppressed or bool(self.changes)


async def suppress_number(
    conn: Conn,
    ctx: PortalContext,
    *,
    phone: str,
    channel: Channel,
    actor: Actor,
    evidence: dict[str, Any],
) -> NumberStop:
    """A reply STOP (or carrier 21610) opts out the number and everyone with it (rule 5).

    The suppression also covers people given this number later: their status is read through
    the suppression table, not copied onto them.
    """
    existing = await ledger.suppression(conn, phone)
    already = existing is not None and existing.active
    event_id = None
    if not already:
        event_id = await _number_event(
            conn,
            ctx,
            phone=phone,
            suppressed=True,
            channel=channel,
            actor=actor,
            evidence=evidence,
        )
    changes = []
    for person in await people_rows.with_phone(conn, phone):
        state = await ledger.state_for_update(conn, person.id)
        old = Status(state.status) if state else Status.NONE
        if state is not None and old == Status.OPTED_OUT and state.phone == phone and already:
            continue
        person_event = await _record(
            conn,
            ctx,
            person=person,
            state=state,
            old=old,
            new=Status.OPTED_OUT,
            channel=channel,
            actor=actor,
            evidence=evidence,
            wording_version=None,
        )
        changes.append(Change(person.id, old, Status.OPTED_OUT, person_event))
    if event_id is not None or changes:
        organization = await org_rows.get(conn)
        await outbox.queue_email(
            conn,
            ctx,
            template="org_number_stopped",
            to=organization.email,
            organization=organization,
            phone=phone,
            channel=channel,
            evidence=evidence,
            people=await people_rows.with_phone(conn, phone),
            when=ctx.now(),
        )
    return NumberStop(newly_suppressed=not already, changes=changes)


async def lift_suppression(
    conn: Conn, ctx: PortalContext, *, phone: str, actor: Actor, evidence: dict[str, Any]
) -> list[Change]:
    """START / UNSTOP from the handset: the only way a STOP is lifted (rule 5)."""
    if actor.kind != "handset":
        raise StopLocked("Only a text of START from the number itself lifts a STOP.")
    existing = await ledger.suppression(conn, phone)
    if existing is not None and existing.active:
        await _number_event(
            conn,
            ctx,
            phone=phone,
            suppressed=False,
            channel=Channel.SMS_KEYWORD,
            actor=actor,
            evidence=evidence,
        )
    changes = []
    for person in await people_rows.with_phone(conn, phone):
        if person.blocked:
            continue
        change = await set_texting(
            conn,
            ctx,
            person_id=person.id,
            allow=True,
            channel=Channel.SMS_KEYWORD,
            actor=actor,
            evidence=evidence,
            wording_version=CURRENT_WORDING,
        )
        if change.changed:
            changes.append(change)
    return changes


async def actor_for_account(
    conn: Conn, account_id: int, *, ip: str = "", user_agent: str = ""
) -> Actor:
    account = await account_rows.by_id(conn, account_id)
    kind = "staff" if account.role == "staff" else "contact"
    return Actor(
        kind=kind,
        label=f"{account.display_name} <{account.email}>",
        account_id=account.id,
        person_id=account.person_id,
        ip=ip,
        user_agent=user_agent,
    )
