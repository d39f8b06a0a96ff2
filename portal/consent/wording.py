"""The consent wording people agree to, as versioned data.

A published version is never edited: a new wording gets a new version, and each ledger event
records the version its person saw.
"""

from __future__ import annotations

from portal import phones

WORDINGS = {
    "2026-11-v1": (
        "{org} may send text messages to {phone} about classes, schedule changes, closures "
        "and your account. Message frequency varies. Message and data rates may apply. "
        "Reply STOP to stop at any time, HELP for help. Consent is not a condition of "
        "enrollment."
    ),
}
CURRENT_WORDING = "2026-11-v1"

# The one short text a person unchecked by staff may get (ThruText's opt-out message): no
# marketing, and how to come back.
STAFF_OPT_OUT_TEXT = (
    "{org}: You will get no more texts from us. Reply START if you want them again."
)


def wording_text(version: str, *, org_name: str, phone: str | None) -> str:
    return WORDINGS[version].format(org=org_name, phone=phones.mask(phone) or "your phone")
