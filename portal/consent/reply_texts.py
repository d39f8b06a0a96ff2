"""The automatic texts about consent: the opt-in confirmation and the STOP, START and HELP
answers, in English and Spanish.

An answer to a keyword goes in the keyword's language (ALTO gets Spanish, STOP English); the
opt-in confirmation of any other channel goes in the person's saved language (none: English).

Each is a direct answer to what the person did; no marketing in any of them (FCC 24-24: one
confirmation, nothing else). Carriers require the opt-in one to name the organization, say
what the texts are about and how often, "Msg & data rates may apply", and how to get help and
to stop (CTIA).
Version 1 of each ships here; staff publish later versions in the console (table
reply_texts), never editing an old one, and the newest is the one sent.
"""

from __future__ import annotations

from portal.db import Conn
from portal.db import wordings as wording_rows

# The texts staff may publish new versions of, and the languages each exists in.
KINDS = ("opt_out", "opt_in", "opt_in_again", "help")
LANGUAGES = {"en": False, "es": True}  # language -> the `spanish` key of REPLIES

REPLIES = {
    ("opt_out", False): "{org}: You are unsubscribed and will get no more texts from us. "
    "Reply START to resubscribe.",
    ("opt_out", True): "{org}: Se canceló su suscripción y no recibirá más mensajes. "
    "Responda START para volver a suscribirse.",
    ("opt_in", False): "{org}: You are subscribed to texts about classes, schedules and your "
    "account. Message frequency varies. Msg & data rates may apply. Reply HELP for help, STOP "
    "to opt out.",
    ("opt_in", True): "{org}: Está suscrito a mensajes sobre clases, horarios y su cuenta. "
    "La frecuencia varía. Pueden aplicarse tarifas de mensajes y datos. Responda AYUDA para "
    "ayuda, STOP para cancelar.",
    # Only to a number that had opted out before: "again" to anyone else would be untrue.
    ("opt_in_again", False): "{org}: You are subscribed to texts again: classes, schedules and "
    "your account. Message frequency varies. Msg & data rates may apply. Reply HELP for help, "
    "STOP to opt out.",
    ("opt_in_again", True): "{org}: Está suscrito de nuevo a mensajes sobre clases, horarios y "
    "su cuenta. La frecuencia varía. Pueden aplicarse tarifas de mensajes y datos. Responda "
    "AYUDA para ayuda, STOP para cancelar.",
    ("help", False): "{org}: texts about classes, schedules and your account. Help: {contact}. "
    "Msg & data rates may apply. Reply STOP to opt out.",
    ("help", True): "{org}: mensajes sobre clases, horarios y su cuenta. Ayuda: {contact}. "
    "Pueden aplicarse tarifas. Responda STOP para cancelar.",
}


async def reply_text(conn: Conn, kind: str, *, language: str | None) -> str:
    """The newest version of one reply text in `language` ('es', else English), with {org}
    and {contact} still to fill in."""
    language = "es" if language == "es" else "en"
    published = (await wording_rows.latest_replies(conn)).get((kind, language))
    return published.text if published else REPLIES[(kind, LANGUAGES[language])]


async def current_texts(conn: Conn) -> dict[tuple[str, str], tuple[int, str]]:
    """Every reply text's newest (version, text), by (kind, language), for the settings page."""
    published = await wording_rows.latest_replies(conn)
    found = {}
    for kind in KINDS:
        for language, spanish in LANGUAGES.items():
            row = published.get((kind, language))
            found[(kind, language)] = (
                (row.version, row.text) if row else (1, REPLIES[(kind, spanish)])
            )
    return found
