"""Reading a reply text: the keyword lists, in one place, and the one `classify`.

Case, spacing, punctuation and accents do not matter ("Stop.", " stop ", "NO MÁS"). Exact
keywords are what carriers and Twilio act on themselves; a message that plainly asks to stop
in other words is presumed a revocation (FCC 24-24) and is flagged for staff to review.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata

OPT_OUT = frozenset(
    {
        "STOP",
        "STOPALL",
        "STOP ALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "REVOKE",
        "OPTOUT",
        "OPT OUT",
        # Spanish, as seen in the field.
        "ALTO",
        "PARAR",
        "BASTA",
        "CANCELAR",
        "NO MAS",
    }
)
OPT_IN = frozenset({"START", "UNSTOP"})
CONDITIONAL_OPT_IN = frozenset({"YES", "SI"})  # only when that number has an open request
HELP = frozenset({"HELP", "INFO", "AYUDA"})
SPANISH = frozenset({"ALTO", "PARAR", "BASTA", "CANCELAR", "NO MAS", "AYUDA", "SI"})

# The provider's own keywords: when it answers them (Twilio's default), we must not answer too.
PROVIDER_KEYWORDS = frozenset(
    {
        "STOP",
        "STOPALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "REVOKE",
        "OPTOUT",
        "START",
        "UNSTOP",
        "YES",
        "HELP",
        "INFO",
    }
)

# A message starting with one of these words is an opt-out ("STOP ALL", "STOP PLEASE").
_OPT_OUT_LEADS = ("STOP", "STOPALL", "UNSUBSCRIBE", "OPTOUT", "OPT OUT", "REVOKE")

# Plain words that ask to stop. Matched on the normalised text (upper case, no punctuation).
_STOP_PHRASES = re.compile(
    r"\b("
    r"PLEASE STOP|STOP (TEXT|MESSAG|SEND|CONTACT|IT|NOW)\w*|STOP$|"
    r"UNSUBSCRIBE\w*|OPT ?OUT|OPT ME OUT|"
    r"(DONT|DO NOT|PLEASE DONT|NO MORE) (TEXT|MESSAGE|SMS|CONTACT|SEND)\w*|"
    r"NO MORE TEXTS?|NO MORE MESSAGES?|"
    r"TAKE ME OFF|REMOVE ME|REMOVE MY (NUMBER|PHONE)|DELETE MY (NUMBER|PHONE)|"
    r"LEAVE ME ALONE|QUIT (TEXTING|MESSAGING)|"
    r"NO ME (ESCRIBAN|MANDEN|ENVIEN)|NO MAS MENSAJES"
    r")\b"
)


# Words that say texts cost the person money ("stop texting me, it costs me money"): such a stop
# gets no confirmation text, which would be one more charge. Matched as whole words.
_COST_WORDS = re.compile(
    r"\b(COSTS?|COSTING|CHARGE[SD]?|CHARGING|MONEY|FEES?|BILL(ED|ING)?|PAY|PAYING|"
    r"CUESTA|CUESTAN|COBRAN?|COBRANDO|CARGOS?|DINERO)\b"
)


@dataclasses.dataclass(frozen=True)
class Reading:
    kind: str  # opt_out | opt_in | help | other
    normalized: str
    exact_keyword: bool  # the whole message is one keyword
    needs_review: bool  # a stop in plain words, not a keyword
    spanish: bool
    mentions_cost: bool = False  # the message complains of what texts cost

    @property
    def language(self) -> str:
        """The language the person wrote in: the ledger records it, and replies use it."""
        return "es" if self.spanish else "en"

    @property
    def provider_keyword(self) -> bool:
        return self.exact_keyword and self.normalized in PROVIDER_KEYWORDS


def normalize(body: str) -> str:
    """Upper case, accents off, punctuation to spaces, spaces collapsed; DON'T -> DONT."""
    text = unicodedata.normalize("NFKD", body or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).upper()
    text = re.sub(r"['’]", "", text)
    text = re.sub(r"[^A-Z0-9]+", " ", text)
    return " ".join(text.split())


def classify(body: str, *, has_open_request: bool = False) -> Reading:
    text = normalize(body)
    spanish = text in SPANISH or text.startswith(("NO ME", "NO MAS"))

    def reading(kind: str, exact: bool = True, review: bool = False) -> Reading:
        return Reading(kind, text, exact, review, spanish, bool(_COST_WORDS.search(text)))

    if text in OPT_OUT:
        return reading("opt_out")
    if text in OPT_IN or (has_open_request and text in CONDITIONAL_OPT_IN):
        return reading("opt_in")
    if text in HELP:
        return reading("help")
    if any(text == lead or text.startswith(lead + " ") for lead in _OPT_OUT_LEADS):
        return reading("opt_out", exact=False)
    if _STOP_PHRASES.search(text):
        return reading("opt_out", exact=False, review=True)
    return reading("other", exact=False)


def as_provider_handled(reading: Reading, provider_kind: str) -> Reading:
    """The SMS provider may say what it did with a message (its own keyword lists can be
    longer than ours): when it says it handled an opt-out, the number has opted out."""
    kind = provider_kind if provider_kind in ("opt_out", "opt_in", "help") else None
    if kind is None or kind == reading.kind:
        return reading
    return dataclasses.replace(reading, kind=kind, exact_keyword=True, needs_review=False)
