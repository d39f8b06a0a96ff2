"""The consent wording people agree to, as versioned data.

A published version is never edited: a new wording gets a new version, and each ledger event
records the version its person saw. The first version ships here; staff publish later ones in
the console (table consent_wordings), and the newest is the one shown.
"""

from __future__ import annotations

import dataclasses

from portal import phones
from portal.db import Conn
from portal.db import wordings as wording_rows

WORDINGS = {
    "2026-11-v1": (
        "{org} may send text messages to {phone} about classes, schedule changes, closures "
        "and your account. Message frequency varies. Message and data rates may apply. "
        "Reply STOP to stop at any time, HELP for help. Consent is not a condition of "
        "enrollment."
    ),
}
CURRENT_WORDING = "2026-11-v1"  # the newest version that ships in the code

# The one short text a person unchecked by staff may get (ThruText's opt-out message): no
# marketing, and how to come back.
STAFF_OPT_OUT_TEXT = (
    "{org}: You will get no more texts from us. Reply START if you want them again."
)


@dataclasses.dataclass(frozen=True)
class Wording:
    version: str
    template: str  # with {org} and {phone}

    def text(self, *, org_name: str, phone: str | None) -> str:
        return self.template.format(org=org_name, phone=phones.mask(phone) or "your phone")


def newest(published_version: str | None, published_text: str | None) -> Wording:
    """The wording shown now, from the newest published row if any (read with a page's own
    query), else the code's."""
    if published_version and published_text:
        return Wording(published_version, published_text)
    return Wording(CURRENT_WORDING, WORDINGS[CURRENT_WORDING])


async def current(conn: Conn) -> Wording:
    """The wording shown to anyone asked now: the newest published, else the code's."""
    published = await wording_rows.consent_versions(conn)
    if published:
        return newest(published[0].version, published[0].text)
    return newest(None, None)


async def of_version(conn: Conn, version: str) -> Wording | None:
    if version in WORDINGS:
        return Wording(version, WORDINGS[version])
    row = await wording_rows.consent_version(conn, version)
    return Wording(row.version, row.text) if row else None


async def all_versions(conn: Conn) -> dict[str, str]:
    """Every version's text by its name, for showing what a ledger event points at."""
    published = {row.version: row.text for row in await wording_rows.consent_versions(conn)}
    return {**WORDINGS, **published}


def wording_text(version: str, *, org_name: str, phone: str | None) -> str:
    """The code's own versions only; use `of_version` for one staff published."""
    return Wording(version, WORDINGS[version]).text(org_name=org_name, phone=phone)
