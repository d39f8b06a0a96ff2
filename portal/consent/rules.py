"""The consent rules as data and pure functions: statuses, channels, who may be texted.

No I/O and no English here: screens, emails and texts turn these codes into words through
templates/_words.html, so a translation never touches Python.
"""

from __future__ import annotations

import dataclasses
import enum

from portal.db import Row


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
    CORRECTION = "correction"  # an admin undoing a staff error, with a reason


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
    """A change the rules refuse. `code` names the refusal; templates/_words.html words it."""

    code = "refused"

    def __init__(self, first_name: str = "") -> None:
        super().__init__(self.code)
        self.first_name = first_name


class StopLocked(ConsentError):
    """The number replied STOP: only START from that number lifts it (rule 5)."""

    code = "stop_locked"


class NoPhone(ConsentError):
    code = "no_phone"


class NeedsEvidence(ConsentError):
    """A staff or import opt-in must say how the person agreed (rule 4)."""

    code = "needs_evidence"


class NeedsEmail(ConsentError):
    """Another adult confirms by email, so they need an address first (rule 4)."""

    code = "needs_email"


class Blocked(ConsentError):
    code = "blocked"


class EmailUnconfirmed(ConsentError):
    """Another family member typed this adult's address: a Yes link must not go to it, or
    whoever typed it could answer for them (rule 4)."""

    code = "email_unconfirmed"


class LoginEmail(ConsentError):
    """Only the adult who logs in with an address may change it: otherwise a password reset
    to the new address would hand their login, and their consent, to someone else."""

    code = "login_email"


class NotCorrectable(ConsentError):
    """Only a staff opt-out, or a stop in plain words, may be undone by a correction; a
    keyword STOP never is (rule 5): only START from the handset lifts it."""

    code = "not_correctable"


class WrongChannel(ConsentError):
    """A channel that can only opt out (carrier, phone change) was asked to opt in."""

    code = "wrong_channel"


@dataclasses.dataclass(frozen=True)
class Change:
    person_id: int
    old_status: str
    new_status: str
    event_id: int | None  # None: nothing changed (a double click, an answer already true)

    @property
    def changed(self) -> bool:
        return self.event_id is not None


@dataclasses.dataclass(frozen=True)
class TextingStatus:
    """Where a person stands. `code` is one of TEXTING_CODES; the rest is what words need."""

    code: str
    first_name: str = ""
    org_phone: str = ""
    # Not allowed because nobody has answered for this number yet (staff see "Never asked").
    never_asked: bool = False

    @property
    def may_text(self) -> bool:
        return self.code == "allowed"


TEXTING_CODES = ("allowed", "not_allowed", "pending", "stopped", "no_phone", "blocked")
# The status filters of the staff console and the dashboard's counts: the codes above, with
# "not allowed" split into an answer of no ("not_allowed") and no answer ("never_asked").
STAFF_FILTERS = (
    "allowed",
    "not_allowed",
    "pending",
    "stopped",
    "never_asked",
    "blocked",
    "no_phone",
)


def texting_status(person: Row, org_phone: str = "") -> TextingStatus:
    """Status of a person row from `db.people` (which joins state and suppression).

    Order matters: a STOP outranks everything, and an opt-in given for an older number does
    not carry over to a new one (rule 6).
    """
    if not person.cell_phone:
        code = "no_phone"
    elif person.suppressed:
        code = "stopped"
    elif person.blocked:
        code = "blocked"
    elif person.status == Status.OPTED_IN and person.consent_phone == person.cell_phone:
        code = "allowed"
    elif person.status == Status.PENDING and person.consent_phone == person.cell_phone:
        code = "pending"
    else:
        code = "not_allowed"
    never_asked = code == "not_allowed" and (
        person.status == Status.NONE or person.consent_phone != person.cell_phone
    )
    return TextingStatus(
        code, first_name=person.first_name, org_phone=org_phone, never_asked=never_asked
    )


def email_confirmed_after_edit(
    person: Row, new_email: str | None, actor: Actor, *, acting_for_self: bool
) -> bool:
    """Whether an address is the person's own after an edit: set by themselves, by staff or
    by an import; an address another family member typed is not, until confirmed."""
    if acting_for_self or actor.kind in ("staff", "system"):
        return True
    unchanged = (new_email or "").lower() == (person.email or "").lower()
    return bool(person.email_confirmed) if unchanged else False


def current_for_phone(state: Row | None, phone: str | None) -> Status:
    """The person's status as it applies to this phone: consent never moves to a new number."""
    if state is None or state.phone != phone:
        return Status.NONE
    return Status(state.status)


def opt_in_status(person: Row, channel: Channel, actor: Actor, evidence: dict) -> Status:
    """What turning texting on means for this person and channel, or the refusal (rule 4)."""
    if not person.cell_phone:
        raise NoPhone(person.first_name)
    if person.suppressed:
        raise StopLocked(person.first_name)
    if person.blocked:
        raise Blocked(person.first_name)
    if channel in (Channel.STAFF, Channel.IMPORT, Channel.CORRECTION):
        if not str(evidence.get("note", "")).strip():
            raise NeedsEvidence(person.first_name)
        return Status.OPTED_IN
    if channel == Channel.PORTAL:
        if actor.person_id == person.id or person.kind == "student":
            return Status.OPTED_IN
        # Another adult must agree for themselves: they get the Yes/No email, at an address
        # that is theirs.
        if not person.email:
            raise NeedsEmail(person.first_name)
        if not person.email_confirmed:
            raise EmailUnconfirmed(person.first_name)
        return Status.PENDING
    if channel in (Channel.EMAIL_LINK, Channel.SMS_KEYWORD):
        return Status.OPTED_IN
    raise WrongChannel(person.first_name)
