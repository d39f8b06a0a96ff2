"""The language of a reply text: the keyword's for STOP, START and HELP, the person's for the
opt-in confirmation, and the ledger records which one the person used."""

from __future__ import annotations

import json

import pytest
from twilio_steps import PAT, text_in

from portal.consent import commands, rules


def events_of_number(portal, phone: str) -> list:
    """Every ledger event for this number, number-wide ones included, oldest first."""
    return portal.rows(
        "SELECT person_id, new_status, channel, language, evidence FROM consent_events"
        " WHERE phone = :phone ORDER BY id",
        {"phone": phone},
    )


@pytest.mark.parametrize(
    ("keyword", "language", "words"),
    [
        ("ALTO", "es", "Se canceló su suscripción"),
        ("Parar.", "es", "Se canceló su suscripción"),
        ("cancelar", "es", "Se canceló su suscripción"),
        ("STOP", "en", "You are unsubscribed"),
        ("Cancel", "en", "You are unsubscribed"),
    ],
)
def test_a_stop_is_confirmed_in_the_language_of_its_word_and_recorded_in_it(
    portal, twilio, keyword, language, words
):
    portal.set_language("Pat", "en" if language == "es" else "es")  # the word decides
    assert text_in(portal, keyword).status_code == 200
    portal.deliver()
    [confirmation] = twilio.texts_to(PAT)
    assert words in confirmation
    stops = [e for e in events_of_number(portal, PAT) if e.channel == "sms_keyword"]
    assert {(e.new_status, e.language) for e in stops} == {
        ("suppressed", language),
        ("opted_out", language),
    }


def test_start_after_alto_is_answered_in_english_and_recorded_as_english(portal, twilio):
    text_in(portal, "ALTO")
    text_in(portal, "START")
    portal.deliver()
    stop, start = twilio.texts_to(PAT)
    assert "Se canceló" in stop and "You are subscribed to texts again" in start
    lifted = [
        (e.new_status, e.language)
        for e in events_of_number(portal, PAT)
        if e.channel == "sms_keyword" and e.new_status in ("active", "opted_in")
    ]
    assert lifted == [("active", "en"), ("opted_in", "en")]


@pytest.mark.parametrize(
    ("keyword", "language", "words"), [("AYUDA", "es", "Ayuda:"), ("HELP", "en", "Help:")]
)
def test_help_is_answered_in_the_language_of_its_word_and_changes_nothing(
    portal, twilio, keyword, language, words
):
    before = len(events_of_number(portal, PAT))
    text_in(portal, keyword)
    portal.deliver()
    [answer] = twilio.texts_to(PAT)
    assert words in answer and "STOP" in answer
    assert len(events_of_number(portal, PAT)) == before


def test_si_answers_an_open_request_in_spanish_and_is_recorded_in_spanish(portal, twilio):
    portal.login()
    portal.save_person("Jordan", allow_texting=True)  # Jordan is asked: an open request
    portal.deliver()
    jordan = "+12015550102"
    text_in(portal, "Sí", from_number=jordan)
    portal.deliver()
    [confirmation] = twilio.texts_to(jordan)
    assert "Está suscrito" in confirmation
    [yes] = [e for e in events_of_number(portal, jordan) if e.channel == "sms_keyword"]
    assert (yes.new_status, yes.language) == ("opted_in", "es")


def staff_texting(portal, first_name: str, *, allow: bool, tell_by_text: bool = False) -> None:
    """Staff check or uncheck Text Opt-In through the one write path."""
    person_id = portal.person_id(first_name)

    async def save():
        async with portal.ctx.db.write() as conn:
            await commands.staff_set_texting(
                conn,
                portal.ctx,
                person_id=person_id,
                allow=allow,
                actor=rules.Actor(kind="staff", label="Office Admin", account_id=None),
                evidence_type="paper_form" if allow else "",
                note="signed form" if allow else "asked at the desk",
                tell_by_text=tell_by_text,
            )

    portal.call(save)


def test_the_opt_in_confirmation_and_staffs_goodbye_go_in_the_persons_language(portal, twilio):
    portal.set_language("Avery", "es")
    avery = "+12015550103"
    staff_texting(portal, "Avery", allow=False, tell_by_text=True)
    staff_texting(portal, "Avery", allow=True)
    portal.deliver()
    goodbye, confirmation = twilio.texts_to(avery)
    assert "No recibirá más mensajes" in goodbye
    assert "Está suscrito a mensajes" in confirmation and "STOP" in confirmation
    # Staff saw no wording with the person: the ledger names no language for them.
    staff_events = [e for e in events_of_number(portal, avery) if e.channel == "staff"]
    assert len(staff_events) == 2 and {e.language for e in staff_events} == {None}


def test_someone_with_no_saved_language_is_confirmed_in_english(portal, twilio):
    staff_texting(portal, "Avery", allow=False)
    staff_texting(portal, "Avery", allow=True)
    portal.deliver()
    [confirmation] = twilio.texts_to("+12015550103")
    assert confirmation.startswith("Riverside Dance Academy: You are subscribed")
    evidence = json.loads(events_of_number(portal, "+12015550103")[-1].evidence)
    assert evidence["evidence_type"] == "paper_form"
