"""How many SMS segments a text takes: GSM-7 160 (153 per part), otherwise UCS-2 70 (67)."""

from __future__ import annotations

import dataclasses

# The GSM 03.38 basic alphabet, and its extension table (each of those costs two septets).
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = frozenset("^{}\\[~]|€\f")


@dataclasses.dataclass(frozen=True)
class Count:
    characters: int  # as the carrier counts them: septets for GSM-7, UTF-16 units otherwise
    segments: int
    encoding: str  # "GSM-7" or "Unicode"


def count(text: str) -> Count:
    """Characters and segments of `text` as it will be sent (an empty text is 0 segments)."""
    if all(c in GSM_BASIC or c in GSM_EXTENDED for c in text):
        units = sum(2 if c in GSM_EXTENDED else 1 for c in text)
        single, part, encoding = 160, 153, "GSM-7"
    else:
        # UCS-2 counts UTF-16 code units: an emoji outside the BMP takes two.
        units = len(text.encode("utf-16-le")) // 2
        single, part, encoding = 70, 67, "Unicode"
    if units == 0:
        segments = 0
    elif units <= single:
        segments = 1
    else:
        segments = -(-units // part)
    return Count(characters=units, segments=segments, encoding=encoding)
