"""Templates and mass texts in English and Spanish: each person gets the text in their saved
language, English when they have none or there is no Spanish body."""

from __future__ import annotations

import json
import re

import pytest
from staff_steps import login_as, wait_for_queueing

ENGLISH = "Hi {first_name}, class is on. {organization}"
SPANISH = "Hola {first_name}, hay clase. {organization}"
TOKEN_RE = re.compile(r'name="send_token" value="([^"]+)"')


def preview(portal, **form):
    return portal.post("/staff/messages/preview", form, token_from="/staff/messages")


def send(portal, **form):
    """Preview, then click Send with the preview's one-time token."""
    page = preview(portal, **form)
    assert page.status_code == 200, page.text
    token = TOKEN_RE.search(page.text).group(1)
    response = portal.post(
        "/staff/messages/send", {**form, "send_token": token}, token_from="/staff/messages"
    )
    wait_for_queueing(portal)
    return response


def texts_by_name(portal) -> dict[str, str]:
    rows = portal.rows(
        "SELECT p.first_name, o.body_text FROM outbox o JOIN people p ON p.id = o.person_id"
        " WHERE o.template = 'mass_text'"
    )
    return {r.first_name: r.body_text for r in rows}


def test_a_mass_text_goes_to_each_person_in_their_language(portal):
    portal.set_language("Pat", "es")
    portal.set_language("Morgan", "en")  # Avery and Casey have none: English
    login_as(portal, "texting")
    page = preview(portal, body=ENGLISH, body_es=SPANISH)
    assert "In Spanish, to the 1 whose language is Spanish" in page.text
    assert 'name="body_es" value="Hola {first_name}, hay clase. {organization}"' in page.text
    assert send(portal, body=ENGLISH, body_es=SPANISH).status_code == 200
    sent = texts_by_name(portal)
    assert sent["Pat"] == "Hola Pat, hay clase. Riverside Dance Academy"
    for name in ("Avery", "Morgan"):
        assert sent[name] == f"Hi {name}, class is on. Riverside Dance Academy"
    [mass] = portal.rows("SELECT body, body_es FROM mass_texts")
    assert (mass.body, mass.body_es) == (ENGLISH, SPANISH)


def test_without_a_spanish_body_everyone_gets_the_english(portal):
    portal.set_language("Pat", "es")
    login_as(portal, "texting")
    send(portal, body=ENGLISH, body_es="  ")
    assert texts_by_name(portal)["Pat"] == "Hi Pat, class is on. Riverside Dance Academy"
    assert portal.rows("SELECT body_es FROM mass_texts")[0].body_es is None


def test_a_direct_text_to_one_person_is_in_their_language(portal):
    portal.set_language("Avery", "es")
    login_as(portal, "texting")
    send(portal, person=str(portal.person_id("Avery")), body=ENGLISH, body_es=SPANISH)
    assert texts_by_name(portal) == {"Avery": "Hola Avery, hay clase. Riverside Dance Academy"}


@pytest.mark.parametrize(
    ("body_es", "words"),
    [
        ("Hola {nombre}", "{nombre}"),
        ("Hola\x00", "control"),
    ],
)
def test_a_bad_spanish_body_is_refused_and_nothing_is_sent(portal, body_es, words):
    login_as(portal, "texting")
    response = preview(portal, body=ENGLISH, body_es=body_es)
    assert response.status_code == 400
    response = portal.post(
        "/staff/messages/send",
        {"body": ENGLISH, "body_es": body_es, "send_token": "x" * 32},
        token_from="/staff/messages",
    )
    assert response.status_code == 400
    assert portal.rows("SELECT id FROM mass_texts") == []
    assert portal.rows("SELECT id FROM outbox WHERE template = 'mass_text'") == []


def test_the_segments_are_counted_on_the_longest_text_in_either_language(portal):
    portal.set_language("Pat", "es")
    login_as(portal, "texting")
    long_spanish = "Clase de hoy: " + "á" * 800  # outside GSM-7: 67 a part, over ten parts
    refused = preview(portal, body=ENGLISH, body_es=long_spanish)
    assert refused.status_code == 400
    # Nobody reads Spanish: the Spanish text goes to nobody, so it limits nothing.
    portal.set_language("Pat", None)
    assert preview(portal, body=ENGLISH, body_es=long_spanish).status_code == 200


def add_template(portal, **form):
    return portal.post("/staff/messages/templates", form, token_from="/staff/messages")


def test_a_template_keeps_its_spanish_body_and_fills_both_fields_of_compose(portal):
    login_as(portal, "texting")
    assert add_template(portal, name="Class on", body=ENGLISH, body_es=SPANISH).status_code == 200
    [template] = portal.rows("SELECT id, body, body_es FROM message_templates")
    assert (template.body, template.body_es) == (ENGLISH, SPANISH)
    page = portal.client.get(f"/staff/messages?template={template.id}").text
    assert re.search(r'<textarea id="body_es" name="body_es"[^>]*>Hola \{first_name\}', page)
    edited = portal.post(
        f"/staff/messages/templates/{template.id}",
        {"name": "Class on", "body": ENGLISH, "body_es": ""},
        token_from="/staff/messages",
    )
    assert edited.status_code == 200
    assert portal.rows("SELECT body_es FROM message_templates")[0].body_es is None
    [create, update] = portal.rows("SELECT details FROM staff_actions ORDER BY id")
    assert json.loads(create.details)["body_es"] == SPANISH
    assert json.loads(update.details)["after"]["body_es"] is None


def test_a_template_with_a_bad_spanish_body_is_not_saved(portal):
    login_as(portal, "texting")
    response = add_template(portal, name="Class on", body=ENGLISH, body_es="Hola {nombre}")
    assert response.status_code == 400
    assert portal.rows("SELECT id FROM message_templates") == []
