"""Choosing a request's language: the switch, the saved language, Accept-Language, English."""

from __future__ import annotations

import pytest

from portal.i18n import languages, negotiation


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("es", "es"),
        ("es-MX,es;q=0.9,en;q=0.8", "es"),
        ("es-419", "es"),
        ("en-US,en;q=0.9,es;q=0.8", "en"),
        ("fr-FR,fr;q=0.9,es;q=0.5", "es"),
        ("en;q=0.5, es", "es"),
        ("es;q=0, en;q=0.1", "en"),
        ("fr, de", None),
        ("*", None),
        ("", None),
        ("es;q=banana, en", "en"),
        ("ES-us", "es"),
    ],
)
def test_accept_language_picks_the_first_supported_language_by_preference(header, expected):
    assert negotiation.from_accept_language(header) == expected


def test_a_very_long_accept_language_header_is_read_only_so_far():
    header = ",".join(["fr"] * 500 + ["es"])
    assert negotiation.from_accept_language(header) is None


def test_the_switch_outranks_the_saved_language_which_outranks_the_browser():
    assert negotiation.choose(chosen="en", saved="es", accept_language="es") == "en"
    assert negotiation.choose(chosen=None, saved="es", accept_language="en") == "es"
    assert negotiation.choose(chosen=None, saved=None, accept_language="es-MX") == "es"
    assert negotiation.choose(chosen=None, saved=None, accept_language="fr") == "en"


def test_codes_the_portal_does_not_speak_are_ignored_wherever_they_come_from():
    assert negotiation.choose(chosen="xx", saved="<script>", accept_language="") == "en"


def test_an_unknown_language_code_is_refused():
    assert languages.checked("es") == "es"
    with pytest.raises(languages.UnknownLanguage):
        languages.checked("fr")
    with pytest.raises(languages.UnknownLanguage):
        languages.checked("")
