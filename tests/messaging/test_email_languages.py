"""Emails in the recipient's language: the person's saved language when the email is queued,
else English; the office's own emails in English. Every email exists in Spanish."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from consent_link_steps import answer, request_link_for_jordan
from i18n_steps import english_fragments, english_left_on

from portal.consent.rules import Channel
from portal.messaging import emails
from portal.paths import TEMPLATES_DIR
from portal.people import demo

FRAGMENTS = english_fragments()
ORGANIZATION = {
    "name": "Riverside Dance Academy",
    "email": "office@riverside.example",
    "phone": "+12015550100",
}
PERSON = {
    "id": 3,
    "first_name": "Jordan",
    "last_name": "Parker",
    "kind": "contact",
    "email": "jordan@demo.example",
    "cell_phone": "+12015550102",
}


class _Actor:
    label = "Pat Parker"


def sample_context(name: str) -> dict:
    """Enough of what each email's caller hands it to render every branch's words."""
    return {
        "organization": ORGANIZATION,
        "person": PERSON,
        "actor": _Actor(),
        "channel": Channel.PORTAL,
        "when": dt.datetime(2026, 11, 25, 14, 0, tzinfo=dt.UTC),
        "new_status": "opted_out",
        "requested_by": "Pat Parker",
        "wording": "(the consent wording)",
        "link_url": "http://portal.test/x",
        "url_for": lambda route, **params: f"http://portal.test/{route}",
        "new_email": "new@demo.example",
        "email": "jordan@demo.example",
        "minutes": 30,
        "invited_by": "Pat Parker",
        "login_name": "Robin",
        "role": "texting",
        "phone": "+12015550102",
        "evidence": {"body": "stop please", "needs_review": True, "error_code": 21610},
        "people": [PERSON],
    }


EMAIL_NAMES = sorted(p.name for p in (TEMPLATES_DIR / "email").iterdir() if p.is_dir())


@pytest.mark.parametrize("name", EMAIL_NAMES)
def test_every_email_has_no_english_left_in_spanish(name):
    rendered = emails.render(name, "es", **sample_context(name))
    for part in (rendered.subject, rendered.text, rendered.html):
        assert english_left_on(part, FRAGMENTS) == [], f"{name}: {part[:300]}"
    assert '<html lang="es">' in rendered.html


@pytest.mark.parametrize("name", EMAIL_NAMES)
def test_every_email_still_reads_in_english(name):
    rendered = emails.render(name, "en", **sample_context(name))
    assert english_left_on(rendered.text, FRAGMENTS), name
    assert '<html lang="en">' in rendered.html


def test_the_email_names_are_all_found():
    assert {"consent_request", "link_answer_confirmation", "org_opt_out"} <= set(EMAIL_NAMES)
    assert all(Path(TEMPLATES_DIR / "email" / n / "subject.txt").exists() for n in EMAIL_NAMES)


def test_the_click_here_email_goes_in_the_saved_language_of_its_recipient(parent):
    parent.set_language("Jordan", "es")
    parent.save_person("Jordan", allow_texting=True)
    [request] = [m for m in parent.deliver() if m.to == ["jordan@demo.example"]]
    assert request.subject == "Riverside Dance Academy desea enviarle mensajes de texto"
    assert "Hola, Jordan:" in request.text and "HAGA CLIC AQUÍ" in request.html
    assert "Sí, envíenme mensajes de texto" in request.text
    assert english_left_on(request.html, FRAGMENTS) == []


def test_without_a_saved_language_emails_are_in_english_whatever_the_sender_reads(parent):
    """The parent reads Spanish, but Jordan chose nothing: Jordan's email is in English."""
    parent.client.headers["Accept-Language"] = "es"
    parent.save_person("Jordan", allow_texting=True)
    [request] = [m for m in parent.deliver() if m.to == ["jordan@demo.example"]]
    assert request.subject == "Riverside Dance Academy would like to send you text messages"


def test_an_answer_confirms_in_the_persons_language_and_tells_the_office_in_english(parent):
    parent.set_language("Jordan", "es")
    path = request_link_for_jordan(parent)
    answer(parent, path, "no")
    mail = {m.to[0]: m for m in parent.deliver()}
    confirmation = mail["jordan@demo.example"]
    assert confirmation.subject.endswith("guardamos su preferencia de mensajes de texto")
    assert "Usted eligió no recibir mensajes" in confirmation.text
    office = mail["office@demo.example"]
    assert office.subject.startswith("Text messaging opt-out by email link")
    assert "No, Do Not Send Me Text Messages" in office.text


def test_the_language_is_the_one_saved_when_the_email_was_queued(parent):
    parent.set_language("Jordan", "es")
    parent.save_person("Jordan", allow_texting=True)
    parent.set_language("Jordan", "en")  # changed after queueing, before sending
    [request] = [m for m in parent.deliver() if m.to == ["jordan@demo.example"]]
    assert request.subject == "Riverside Dance Academy desea enviarle mensajes de texto"


def test_a_password_reset_goes_in_the_saved_language_of_the_account_holder(portal):
    portal.set_language("Pat", "es")
    portal.post("/forgot-password", {"email": demo.PARENT_EMAIL})
    [reset] = portal.deliver()
    assert reset.subject == "Restablezca su contraseña del portal de Riverside Dance Academy"
    assert "Alguien pidió restablecer la contraseña" in reset.text
