"""The one write path: every consent change in the product is one of these named commands.

Portal toggles, staff actions, emailed-link answers, reply keywords, carrier errors, imports and
phone changes all come through here. Each runs inside the caller's write transaction
(`db.write()`): it re-reads the current state, checks the rules, appends a ledger event,
updates current state and queues the notices, all in that one transaction. None of them does
network I/O. Only commands/record.py writes consent_events, consent_state and
phone_suppressions.
"""

from portal.consent.commands.imported import ImportedAnswer, import_texting
from portal.consent.commands.number import (
    NumberStop,
    carrier_opt_out,
    lift_suppression,
    suppress_number,
)
from portal.consent.commands.person import (
    PersonEdit,
    actor_for_account,
    actor_of,
    change_phone,
    may_text,
    set_texting,
    update_person,
)
from portal.consent.commands.staff import (
    EVIDENCE_TYPES,
    block,
    not_an_opt_out,
    staff_set_texting,
    unblock,
    undo_staff_opt_out,
)

__all__ = [
    "EVIDENCE_TYPES",
    "block",
    "not_an_opt_out",
    "staff_set_texting",
    "unblock",
    "undo_staff_opt_out",
    "ImportedAnswer",
    "import_texting",
    "NumberStop",
    "PersonEdit",
    "actor_for_account",
    "actor_of",
    "carrier_opt_out",
    "change_phone",
    "lift_suppression",
    "may_text",
    "set_texting",
    "suppress_number",
    "update_person",
]
