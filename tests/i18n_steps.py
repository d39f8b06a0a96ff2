"""Steps shared by the Spanish tests: the parent and email strings, and a page's visible text."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from portal.i18n import catalogs
from portal.paths import PACKAGE_DIR, TEMPLATES_DIR

# Everything a parent or a contact reads: their pages, the shared words, and every email.
PARENT_TEMPLATES = [
    TEMPLATES_DIR / name for name in ("base.html", "_macros.html", "_words.html")
] + sorted(
    path
    for folder in ("account", "auth", "consent", "errors", "email")
    for path in (TEMPLATES_DIR / folder).rglob("*")
    if path.is_file()
)
# Words views hand to those pages (errors, headings), marked with catalogs.mark.
PARENT_MODULES = [
    PACKAGE_DIR / "app.py",
    PACKAGE_DIR / "phones.py",
    PACKAGE_DIR / "validation.py",
    *(
        PACKAGE_DIR / "web" / name
        for name in ("account.py", "auth_views.py", "consent_links.py", "forms.py", "language.py")
    ),
]
# Attributes a person reads or hears (a screen reader says aria-label and title).
READ_ATTRIBUTES = {"aria-label", "title", "placeholder", "alt"}


def spanish_catalog():
    with catalogs.po_path("es").open("rb") as po:
        return read_po(po, locale="es")


def _ids(extracted) -> set[str]:
    return {message for _, message, *_ in extracted if isinstance(message, str) and message}


def parent_msgids() -> set[str]:
    found = set()
    for path in PARENT_TEMPLATES:
        found |= _ids(
            extract_from_file("jinja2.ext.babel_extract", str(path), options={"trimmed": "true"})
        )
    for path in PARENT_MODULES:
        found |= _ids(extract_from_file("python", str(path), keywords={"mark": None}))
    return found


def english_fragments() -> set[str]:
    """The English words of every parent string whose Spanish differs, cut at placeholders and
    markup: none of them may show on a page rendered in Spanish."""
    catalog = spanish_catalog()
    fragments = set()
    for msgid in parent_msgids():
        entry = catalog.get(msgid)
        if entry is not None and entry.string == msgid:
            continue  # the same in both languages ("Portal")
        for piece in re.split(r"%\(\w+\)s|<[^>]*>", msgid):
            piece = piece.strip(' .,:;()"“”')
            if len(piece) >= 4 and re.search(r"[A-Za-z]{2}", piece):
                fragments.add(piece)
    return fragments


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._hidden += 1
        self.parts.extend(value or "" for name, value in attrs if name in READ_ATTRIBUTES)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """What a person sees or hears of a page: its text and read-out attributes, one line."""
    parser = _VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def english_left_on(html: str, fragments: set[str]) -> list[str]:
    text = visible_text(html)
    return sorted(
        fragment
        for fragment in fragments
        if re.search(r"(?<![A-Za-z])" + re.escape(fragment) + r"(?![A-Za-z])", text)
    )
