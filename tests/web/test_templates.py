"""Templates: every code a screen shows has words, and every field a person fills has a label."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from portal.consent.rules import Channel, Status
from portal.paths import TEMPLATES_DIR
from portal.web.pages import templates

PACKAGE = Path(TEMPLATES_DIR).parent
WORDS = templates.env.get_template("_words.html").module
FIELD = re.compile(r"<(input|select|textarea)\b([^>]*)>", re.S)


def _codes_in_source(pattern: str) -> set[str]:
    found = set()
    for path in PACKAGE.rglob("*.py"):
        found |= set(re.findall(pattern, path.read_text()))
    return found


def _said(words: str, code: str) -> None:
    assert words.strip() and words.strip() != code and "_" not in words, (code, words)


@pytest.mark.parametrize("code", [*Status, "suppressed", "active"])
def test_every_ledger_state_has_words(code):
    """The person history, the dashboard and the proof page name each state through one
    mapping: a new state without words would show as a raw code such as opted_out."""
    _said(str(WORDS.consent_state_words(str(code))), str(code))


@pytest.mark.parametrize("code", list(Channel))
def test_every_channel_has_words(code):
    _said(str(WORDS.channel_words(str(code))), str(code))


def test_every_kind_of_actor_has_words():
    kinds = _codes_in_source(r'Actor\(\s*kind="(\w+)"') | {"staff", "contact", "link"}
    assert {"handset", "system"} <= kinds
    for kind in kinds:
        _said(str(WORDS.actor_kind_words(kind)), kind)


def test_every_staff_action_on_a_person_has_words():
    actions = _codes_in_source(r'"(person\.[a-z_]+)"') | {"text_reply"}
    assert {"person.block", "person.moved", "person.added"} <= actions
    for action in actions:
        _said(str(WORDS.staff_action_words(action)), action)


def _fields_without_a_label(text: str) -> list[str]:
    missing = []
    for tag, attributes in FIELD.findall(text):
        kind = re.search(r'type="([^"]+)"', attributes)
        if tag == "input" and kind and kind.group(1) in ("hidden", "submit"):
            continue
        if "aria-label" in attributes:  # aria-label or aria-labelledby
            continue
        field_id = re.search(r'\bid="([^"]+)"', attributes)
        if not field_id or f'for="{field_id.group(1)}"' not in text:
            missing.append(f"<{tag}{attributes[:60]}")
    return missing


@pytest.mark.parametrize(
    "path",
    sorted(p.relative_to(TEMPLATES_DIR).as_posix() for p in Path(TEMPLATES_DIR).rglob("*.html")),
)
def test_every_field_a_person_fills_has_a_label(path):
    """A screen reader names a field by its <label for>; a placeholder or a nearby heading is
    not a name. (Hidden fields and buttons need none.)"""
    assert _fields_without_a_label((Path(TEMPLATES_DIR) / path).read_text()) == []


def test_the_label_check_finds_a_field_without_a_label():
    assert _fields_without_a_label('<input id="q" name="q" type="text">') != []
    assert _fields_without_a_label('<label for="q">Search</label><input id="q">') == []
