"""The translations: portal/locale/<lang>/LC_MESSAGES/messages.po, read with Babel at start.

The .po files are read directly (no compiled .mo to go stale): what a translator saved is
what the portal says. Templates call `_()` and `{% trans %}` through `install`, which looks
the words up in the language being rendered (`rendering_in`), so macros imported from
_words.html translate too, without being handed the page's context.
"""

from __future__ import annotations

import contextlib
import contextvars
import gettext
import io
from collections.abc import Iterator
from pathlib import Path

import jinja2
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from portal.i18n import languages
from portal.paths import PACKAGE_DIR

LOCALE_DIR = PACKAGE_DIR / "locale"
DOMAIN = "messages"

_current = contextvars.ContextVar("portal_language", default=languages.DEFAULT)


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def _load(language: str) -> gettext.NullTranslations:
    """English is the msgids themselves; every other language comes from its .po file. Fuzzy
    entries are left out, as msgfmt leaves them out: an unchecked guess is never shown."""
    if language == languages.ENGLISH:
        return gettext.NullTranslations()
    with po_path(language).open("rb") as po:
        catalog = read_po(po, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


_TRANSLATIONS = {code: _load(code) for code in languages.SUPPORTED}


def translations(language: str) -> gettext.NullTranslations:
    return _TRANSLATIONS.get(language, _TRANSLATIONS[languages.DEFAULT])


@contextlib.contextmanager
def rendering_in(language: str) -> Iterator[None]:
    """Templates rendered inside this block speak `language`."""
    token = _current.set(language if language in languages.NAMES else languages.DEFAULT)
    try:
        yield
    finally:
        _current.reset(token)


def current_language() -> str:
    return _current.get()


def gettext_now(message: str) -> str:
    return translations(_current.get()).gettext(message)


def ngettext_now(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, n)


def translated(message):
    """`{{ error|translated }}`: words a view handed the page (marked with `mark`), in the
    language being rendered. Looked up as they are and never %-formatted as `_()` would be:
    such words may quote what someone typed, and a % typed into a form is only a character."""
    return gettext_now(message) if message and isinstance(message, str) else message


def install(env: jinja2.Environment) -> None:
    """Give a Jinja2 environment `_()`, `{% trans %}` and `{% pluralize %}` in the language of
    the render, and the `translated` filter. Trimmed: a {% trans %} block's line breaks and
    indentation are not part of its msgid (babel.cfg extracts with the same setting)."""
    env.add_extension("jinja2.ext.i18n")
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_callables(gettext_now, ngettext_now, newstyle=True)
    # `_` straight to gettext: Jinja's alias looks gettext up again and adds a second call for
    # every string on every page.
    env.globals["_"] = env.globals["gettext"]
    env.filters["translated"] = translated


def mark(message: str) -> str:
    """Marks words in Python for extraction (babel.cfg's `mark` keyword); the template that
    shows them translates them with the `translated` filter."""
    return message
