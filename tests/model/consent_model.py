"""A small pure-Python model of the consent rules (DESIGN.md section 2) for the stateful test.

Plain data and functions, no I/O: each action says what the real portal should do to each
person's consent, to each number's STOP, to the emailed links, and which messages it owes
(rule 8) as (template, recipient) pairs. Written from DESIGN.md, not from the product's code,
so where the two disagree one of them is wrong.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt

ORG_EMAIL = "office@demo.example"
LINK_LIFETIME = dt.timedelta(days=14)  # CONSENT_LINK_DAYS' default
ALLOWED, PENDING, OPTED_IN, OPTED_OUT, NONE = "allowed", "pending", "opted_in", "opted_out", "none"


class Refused(Exception):
    """The rules refuse the action: nothing at all changes (one transaction)."""


@dataclasses.dataclass
class Person:
    name: str
    kind: str  # contact | student
    phone: str | None
    email: str | None = None
    email_confirmed: bool = True
    has_login: bool = False
    # Current consent state; `version` counts the person's ledger events, like consent_state.
    status: str = NONE
    consent_phone: str | None = None
    version: int = 0
    last_channel: str | None = None
    blocked: bool = False


@dataclasses.dataclass
class Link:
    """An emailed Yes/No link: for whom, at which consent version and number, sent when."""

    person: str
    version: int
    phone: str
    issued_at: dt.datetime
    message_id: str | None = None  # the outbox row's, matched when the email arrives
    url: str | None = None  # known once the email came through the SMTP server
    used: bool = False


@dataclasses.dataclass(frozen=True)
class Actor:
    kind: str  # contact | staff | handset | link | system
    person: str | None = None  # the contact acting, for portal saves


@dataclasses.dataclass
class Model:
    people: dict[str, Person]
    now: dt.datetime
    suppressed: set[str] = dataclasses.field(default_factory=set)
    links: list[Link] = dataclasses.field(default_factory=list)
    seen_sids: set[str] = dataclasses.field(default_factory=set)
    # What the current step owes: outbox rows and ledger events, reset by `begin`.
    messages: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    events: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)

    def begin(self) -> None:
        self.messages, self.events = [], []

    def with_phone(self, phone: str | None) -> list[Person]:
        return [p for p in self.people.values() if phone and p.phone == phone]

    # -- reading (rule 2) ---------------------------------------------------------------

    def code(self, p: Person) -> str:
        """The texting status as every screen names it."""
        if not p.phone:
            return "no_phone"
        if p.phone in self.suppressed:
            return "stopped"
        if p.blocked:
            return "blocked"
        if p.consent_phone == p.phone and p.status in (OPTED_IN, PENDING):
            return ALLOWED if p.status == OPTED_IN else PENDING
        return "not_allowed"

    def may_text(self, p: Person) -> bool:
        return self.code(p) == ALLOWED

    def switch_on(self, p: Person) -> bool:
        return self.code(p) in (ALLOWED, PENDING)

    def current(self, p: Person) -> str:
        """Consent never moves to a new number (rule 6)."""
        return p.status if p.version and p.consent_phone == p.phone else NONE

    # -- writing ------------------------------------------------------------------------

    def _event(self, p: Person, new: str, channel: str, phone: str | None = None) -> None:
        p.status, p.consent_phone = new, p.phone if phone is None else phone
        p.version += 1
        p.last_channel = channel
        self.events.append((p.name, new, channel))

    def _owe(self, template: str, to: str | None) -> None:
        if to:
            self.messages.append((template, to))

    def _opt_in_text(self, p: Person) -> None:
        """Carriers require one confirmation per number that opts in (rule 4)."""
        if p.phone and not any(o is not p and self.may_text(o) for o in self.with_phone(p.phone)):
            self._owe("opt_in_confirmation", p.phone)

    def ask(self, p: Person) -> None:
        """The CLICK HERE email, only to an address the person owns (rule 4), and never to
        someone blocked: they could not say Yes."""
        if p.email and p.phone and p.email_confirmed and not p.blocked:
            self.links.append(Link(p.name, p.version, p.phone, self.now))
            self._owe("consent_request", p.email)

    def _opt_in_status(self, p: Person, channel: str, actor: Actor, note: str) -> str:
        if not p.phone or p.phone in self.suppressed or p.blocked:
            raise Refused("no phone, stopped or blocked")
        if channel in ("staff", "import"):
            if not note:
                raise Refused("needs evidence")
            return OPTED_IN
        if channel == "portal" and not (actor.person == p.name or p.kind == "student"):
            if not (p.email and p.email_confirmed):
                raise Refused("another adult confirms at an address of their own")
            return PENDING
        return OPTED_IN

    def set_texting(
        self,
        p: Person,
        allow: bool,
        channel: str,
        actor: Actor,
        note: str = "",
        *,
        record_unchanged: bool = False,
    ) -> bool:
        new = self._opt_in_status(p, channel, actor, note) if allow else OPTED_OUT
        if new == self.current(p) and not record_unchanged:
            return False
        self._event(p, new, channel)
        # What the change owes (rule 8).
        if new == OPTED_IN and channel != "sms_keyword":
            self._opt_in_text(p)
        if new == PENDING:
            self.ask(p)
        if new == OPTED_OUT and channel not in ("email_link", "import"):
            self._owe("org_opt_out", ORG_EMAIL)
        if channel == "email_link":
            self._owe("org_link_answer", ORG_EMAIL)
            self._owe("link_answer_confirmation", p.email)
        elif channel == "portal" and p.kind == "contact" and actor.person != p.name:
            # Told of a change made behind their back; a request asks them instead.
            self._owe("changed_by_other", p.email if new != PENDING else None)
        return True

    def transaction(self, action, *args, **kwargs):
        """Run an action all or nothing, as the product's one write transaction does."""
        saved = copy.deepcopy((self.people, self.suppressed, self.links))
        try:
            return action(*args, **kwargs)
        except Refused:
            self.people, self.suppressed, self.links = saved
            self.begin()
            return None


def portal_save(
    m: Model, actor: str, who: str, *, allow: bool, email: str | None, phone: str | None
) -> bool:
    """A family member saves an edit form with the switch `allow` (rules 4 and 6)."""
    p = m.people[who]
    me = Actor("contact", actor)
    for_self = actor == who
    shown_on = m.switch_on(p)
    email_changed = (email or "").lower() != (p.email or "").lower()
    phone_changed = phone != p.phone
    old_email = p.email
    p.email = email
    if for_self:
        p.email_confirmed = True
    elif email_changed:
        p.email_confirmed = False  # typed by someone else: not theirs until confirmed
    p.phone = phone
    if email_changed and old_email and not for_self and p.kind == "contact":
        m._owe("email_changed_by_other", old_email)
    moved = allow != shown_on  # only a switch the person moved is a choice
    turn_on = allow and (moved or phone_changed)
    if phone_changed and not (p.version and p.consent_phone == phone):
        m._event(p, NONE, "phone_change", phone)  # a new number starts from nothing (rule 6)
        if not turn_on and phone and phone not in m.suppressed:
            m.ask(p)
    if turn_on:
        m.set_texting(p, True, "portal", me)
    elif moved and not phone_changed:
        m.set_texting(p, False, "portal", me)
    return True


def link_answer(m: Model, link: Link, yes: bool) -> str:
    """The Yes/No POST: once, only while the link is current (DESIGN.md section 3, Links)."""
    p = m.people[link.person]
    if m.now > link.issued_at + LINK_LIFETIME:
        return "expired"
    if link.used:
        return "used"
    if link.version != p.version or link.phone != p.phone:
        return "stale"
    if yes and p.phone in m.suppressed:
        return "stopped"
    m.set_texting(p, yes, "email_link", Actor("link", p.name), record_unchanged=True)
    link.used = True
    return "answered"


def new_link(m: Model, link: Link) -> None:
    """ "Email me a new link" from any link of theirs: to the address on file, even after an
    answer, at most three an hour, never over a STOP or a block."""
    p = m.people[link.person]
    hour_ago = m.now - dt.timedelta(hours=1)
    recent = [x for x in m.links if x.person == p.name and x.issued_at > hour_ago]
    if len(recent) < 3 and p.phone not in m.suppressed:
        m.ask(p)


def text_in(m: Model, phone: str, keyword: str, sid: str) -> None:
    """A text from a handset; Twilio may deliver the same one again (same sid)."""
    if sid in m.seen_sids:
        return  # processed once
    m.seen_sids.add(sid)
    handset = Actor("handset")
    if keyword == "HELP":
        m._owe("reply_help", phone)
    elif keyword == "STOP":
        already = phone in m.suppressed
        m.suppressed.add(phone)
        changed = not already
        for p in m.with_phone(phone):
            if already and p.version and p.status == OPTED_OUT and p.consent_phone == phone:
                continue
            m._event(p, OPTED_OUT, "sms_keyword")
            changed = True
        if changed:
            m._owe("org_number_stopped", ORG_EMAIL)
            m._owe("reply_opt_out", phone)
    elif keyword == "START":
        m.suppressed.discard(phone)  # only START from the number lifts its STOP (rule 5)
        people = m.with_phone(phone)
        for p in people:
            if not p.blocked:
                m.set_texting(p, True, "sms_keyword", handset)
        if not people or any(m.may_text(p) for p in people):
            m._owe("reply_opt_in", phone)


def staff_save(m: Model, who: str, *, opt_in: bool, evidence: bool, tell: bool) -> bool:
    """*Text Opt-In* moved on a person's page: off always works, on needs evidence (rule 4)."""
    p = m.people[who]
    if opt_in == m.switch_on(p):
        return True  # the box was not moved
    note = "paper form on file" if evidence else ""
    changed = m.set_texting(p, opt_in, "staff", Actor("staff"), note)
    # One short text saying texts stop, unless the handset still gets texts for someone else.
    others = any(o is not p and m.may_text(o) for o in m.with_phone(p.phone))
    reachable = p.phone and p.phone not in m.suppressed
    if changed and not opt_in and tell and reachable and not others:
        m._owe("staff_opt_out", p.phone)
    return True


def staff_request(m: Model, who: str) -> None:
    """The office emails the CLICK HERE request, to an address the person owns, unless their
    number replied STOP, they are blocked, or they already answered for this number."""
    p = m.people[who]
    answered = p.consent_phone == p.phone and p.status in (OPTED_IN, OPTED_OUT)
    if p.phone not in m.suppressed and not p.blocked and not answered:
        m.ask(p)


def staff_block(m: Model, who: str, blocked: bool) -> None:
    """*Block Contact* opts out until unblocked; unblocking opts nobody in."""
    p = m.people[who]
    if blocked and not p.blocked:
        m.set_texting(p, False, "staff", Actor("staff"))
    p.blocked = blocked


def import_row(m: Model, who: str, texting: str, phone: str) -> bool:
    """One roster row for a person: an import corrects only an import, never opts in over a
    STOP or a block, nor for a number other than the person's (README, Roster CSV)."""
    p = m.people[who]
    if texting == "yes" and (phone in m.suppressed or p.blocked):
        raise Refused("the row is an error: nothing imports")
    if texting == "yes" and phone != p.phone:
        return True  # consent is per number (rule 6)
    same_number = p.version and p.consent_phone == p.phone == phone
    if texting and same_number and p.last_channel not in (None, "import"):
        return True  # the person's own answer stands
    if texting:
        m.set_texting(p, texting == "yes", "import", Actor("system"), "roster consent note")
    return True


def mass_text_recipients(m: Model) -> list[str]:
    """One text per number, to those who may be texted now (rules 2 and 9)."""
    return sorted({p.phone for p in m.people.values() if m.may_text(p)})
