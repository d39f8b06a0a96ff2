"""The consent wording people agree to, as versioned data.

A published version is never edited: a new wording gets a new version, and each ledger event
records the version its person saw and the language it was shown in. Each version has an
English and a Spanish text. The first version ships here; staff publish later ones, both
languages at once, in the console (table consent_wordings), and the newest is the one shown.
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
# The same versions in Spanish: what a person reading the page in Spanish agrees to.
WORDINGS_ES = {
    "2026-11-v1": (
        "{org} puede enviar mensajes de texto a {phone} sobre clases, cambios de horario, "
        "cierres y su cuenta. La frecuencia de los mensajes varía. Pueden aplicarse tarifas "
        "de mensajes y datos. Responda STOP para cancelar en cualquier momento, AYUDA para "
        "obtener ayuda. El consentimiento no es una condición para la inscripción."
    ),
}
CURRENT_WORDING = "2026-11-v1"  # the newest version that ships in the code
LANGUAGES = ("en", "es")

# The one short text a person unchecked by staff may get (ThruText's opt-out message): no
# marketing, and how to come back.
STAFF_OPT_OUT_TEXT = {
    "en": "{org}: You will get no more texts from us. Reply START if you want them again.",
    "es": "{org}: No recibirá más mensajes de nosotros. Responda START si desea recibirlos "
    "de nuevo.",
}
_NO_PHONE = {"en": "your phone", "es": "su teléfono"}


@dataclasses.dataclass(frozen=True)
class Wording:
    version: str
    template: str  # English, with {org} and {phone}
    template_es: str | None = None  # None only for versions published before Spanish

    def shown_in(self, language: str | None) -> str:
        """The language a page in `language` shows this version in: Spanish when asked and
        there is a Spanish text, else English. The ledger records this, not the page's."""
        return "es" if language == "es" and self.template_es else "en"

    def text(self, *, org_name: str, phone: str | None, language: str | None = "en") -> str:
        shown = self.shown_in(language)
        template = self.template_es if shown == "es" else self.template
        return template.format(org=org_name, phone=phones.mask(phone) or _NO_PHONE[shown])


def _code_version(version: str) -> Wording:
    return Wording(version, WORDINGS[version], WORDINGS_ES.get(version))


def newest(
    published_version: str | None,
    published_text: str | None,
    published_text_es: str | None = None,
) -> Wording:
    """The wording shown now, from the newest published row if any (read with a page's own
    query), else the code's."""
    if published_version and published_text:
        return Wording(published_version, published_text, published_text_es)
    return _code_version(CURRENT_WORDING)


async def current(conn: Conn) -> Wording:
    """The wording shown to anyone asked now: the newest published, else the code's."""
    published = await wording_rows.consent_versions(conn)
    if published:
        return newest(published[0].version, published[0].text, published[0].text_es)
    return newest(None, None)


async def of_version(conn: Conn, version: str) -> Wording | None:
    if version in WORDINGS:
        return _code_version(version)
    row = await wording_rows.consent_version(conn, version)
    return Wording(row.version, row.text, row.text_es) if row else None


async def all_versions(conn: Conn) -> dict[str, str]:
    """Every version's English text by its name, for showing what a ledger event points at."""
    return {version: shown.template for version, shown in (await every_wording(conn)).items()}


async def every_wording(conn: Conn) -> dict[str, Wording]:
    """Every version, both languages, by its name: proof shows the text in the language the
    person saw."""
    published = {
        row.version: Wording(row.version, row.text, row.text_es)
        for row in await wording_rows.consent_versions(conn)
    }
    return {**{version: _code_version(version) for version in WORDINGS}, **published}


def wording_text(
    version: str, *, org_name: str, phone: str | None, language: str | None = "en"
) -> str:
    """The code's own versions only; use `of_version` for one staff published."""
    return _code_version(version).text(org_name=org_name, phone=phone, language=language)
