"""The Spanish catalog: complete for every parent, contact and email string, and in step with
the templates (a string added without running the README's extraction fails here)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from i18n_steps import PARENT_TEMPLATES, parent_msgids, spanish_catalog

from portal.i18n import catalogs
from portal.paths import PACKAGE_DIR, TEMPLATES_DIR

ROOT = PACKAGE_DIR.parent
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def every_msgid() -> set[str]:
    """What `pybabel extract -F babel.cfg` finds in the whole package."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = extract_from_dir(str(ROOT), method_map, options_map)
    return {message for *_, message, _, _ in found if isinstance(message, str) and message}


def test_the_parent_and_email_strings_are_found_at_all():
    found = parent_msgids()
    assert "Yes, Send Me Text Messages" in found and "Hello %(name)s," in found
    assert len(found) > 150


def test_every_string_in_the_templates_and_views_is_in_the_spanish_catalog():
    in_catalog = {message.id for message in spanish_catalog() if message.id}
    missing = sorted(every_msgid() - in_catalog)
    assert missing == [], "run the extraction in the README (Spanish) and translate: " + repr(
        missing[:5]
    )


def test_every_parent_contact_and_email_string_has_a_checked_spanish_translation():
    catalog = spanish_catalog()
    untranslated = sorted(
        msgid
        for msgid in parent_msgids()
        if (entry := catalog.get(msgid)) is None or not entry.string or entry.fuzzy
    )
    assert untranslated == []


def test_no_translation_is_left_fuzzy_or_loses_a_placeholder():
    for entry in spanish_catalog():
        if not entry.id or not entry.string:
            continue
        assert not entry.fuzzy, entry.id
        assert sorted(PLACEHOLDER.findall(entry.string)) == sorted(PLACEHOLDER.findall(entry.id)), (
            entry.id
        )
        # Markup in a msgid (<strong>, a link) is kept in its translation.
        assert sorted(re.findall(r"</?\w+", entry.string)) == sorted(
            re.findall(r"</?\w+", entry.id)
        ), entry.id


def test_the_answer_buttons_say_exactly_the_agreed_words_in_both_languages():
    spanish_words = catalogs.translations("es")
    assert spanish_words.gettext("Yes, Send Me Text Messages") == "Sí, envíenme mensajes de texto"
    assert (
        spanish_words.gettext("No, Do Not Send Me Text Messages")
        == "No, no me envíen mensajes de texto"
    )
    english = catalogs.translations("en")
    assert english.gettext("Yes, Send Me Text Messages") == "Yes, Send Me Text Messages"


def test_the_catalog_is_read_from_the_po_file_itself(tmp_path, monkeypatch):
    """No compiled .mo to go stale: what the .po says now is what the portal says."""
    copy = tmp_path / "es" / "LC_MESSAGES" / "messages.po"
    copy.parent.mkdir(parents=True)
    text = catalogs.po_path("es").read_text(encoding="utf-8")
    copy.write_text(
        text.replace('msgstr "Guardado."', 'msgstr "Guardado ahora."'), encoding="utf-8"
    )
    monkeypatch.setattr(catalogs, "LOCALE_DIR", tmp_path)
    assert catalogs._load("es").gettext("Saved.") == "Guardado ahora."


def test_fuzzy_entries_are_never_shown(tmp_path, monkeypatch):
    copy = tmp_path / "es" / "LC_MESSAGES" / "messages.po"
    copy.parent.mkdir(parents=True)
    text = catalogs.po_path("es").read_text(encoding="utf-8")
    copy.write_text(text.replace('msgid "Saved."', '#, fuzzy\nmsgid "Saved."'), encoding="utf-8")
    monkeypatch.setattr(catalogs, "LOCALE_DIR", tmp_path)
    assert catalogs._load("es").gettext("Saved.") == "Saved."


@pytest.mark.parametrize(
    "path",
    [p for p in PARENT_TEMPLATES if p.suffix in (".html", ".txt")],
    ids=lambda p: str(p.relative_to(TEMPLATES_DIR)),
)
def test_no_parent_template_has_words_left_outside_the_catalog(path):
    """Text between tags with letters in it, outside {{ }}, {% %} and {% trans %} blocks,
    was forgotten."""
    text = Path(path).read_text()
    text = re.sub(r"\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}", " ", text, flags=re.S)
    text = re.sub(r"\{#.*?#\}|\{\{.*?\}\}|\{%.*?%\}", " ", text, flags=re.S)
    if path.suffix == ".html":
        text = re.sub(r"<[^>]*>", " ", text)
        text = re.sub(r"&\w+;", " ", text)
    leftovers = [word for word in re.findall(r"[A-Za-z]{2,}", text)]
    assert leftovers == [], f"{path.relative_to(TEMPLATES_DIR)}: {leftovers[:8]}"
