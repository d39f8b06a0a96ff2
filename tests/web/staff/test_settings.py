"""Settings, for admins: the organization, versioned consent wording and reply texts."""

from __future__ import annotations

import json
import re

from consent_link_steps import LINK_RE, answer
from staff_steps import login_as, receive_text

PAT = "+12015550101"


def settings_post(portal, route: str, data: dict):
    return portal.post(portal.app.url_path_for(route), data, token_from="/staff/settings")


def organization_form(**changes) -> dict:
    return {
        "name": "Riverside Dance Academy",
        "email": "office@riverside.example",
        "phone": "(201) 555-0100",
        "link_days": "",
        "provider_answers": "default",
        **changes,
    }


def test_only_admins_reach_settings(portal):
    for role in ("viewer", "texting"):
        login_as(portal, role)
        assert portal.client.get("/staff/settings").status_code == 403
        token = portal.csrf("/staff/people")
        response = portal.client.post(
            "/staff/settings/organization", data={**organization_form(), "csrf_token": token}
        )
        assert response.status_code == 403


def test_an_admin_renames_the_organization_and_changes_its_email_with_an_audit_line(portal):
    login_as(portal, "admin")
    response = settings_post(
        portal,
        "staff.settings_organization",
        organization_form(name="Riverside Dance", email="Front.Desk@riverside.example"),
    )
    assert response.status_code == 200 and "Saved." in response.text
    assert '<a class="brand" href="/">Riverside Dance</a>' in response.text
    [change] = portal.rows("SELECT action, details FROM staff_actions")
    assert change.action == "settings.organization"
    assert json.loads(change.details)["email"] == {
        "from": "office@demo.example",
        "to": "Front.Desk@riverside.example",
    }
    # The next opt-out is told to the new Organization Email.
    portal.client.cookies.clear()
    receive_text(portal, PAT, "STOP")
    assert any(m.to == ["Front.Desk@riverside.example"] for m in portal.deliver())


def test_bad_organization_values_are_refused_and_change_nothing(portal):
    login_as(portal, "admin")
    for bad in ({"email": "not-an-email"}, {"phone": "555"}, {"link_days": "400"}, {"name": ""}):
        response = settings_post(portal, "staff.settings_organization", organization_form(**bad))
        assert response.status_code == 400 and "Nothing was saved" in response.text
    assert portal.rows("SELECT action FROM staff_actions") == []


def test_a_new_consent_wording_is_shown_from_now_on_and_the_ledger_keeps_each_version(portal):
    login_as(portal, "admin")
    new_words = (
        "{org} will text {phone} about rehearsals, weekly. Message and data rates may apply."
        " Reply STOP to stop, HELP for help."
    )
    new_words_es = (
        "{org} enviará mensajes a {phone} sobre ensayos, cada semana. Pueden aplicarse tarifas"
        " de mensajes y datos. Responda STOP para cancelar, AYUDA para obtener ayuda."
    )
    response = settings_post(
        portal, "staff.settings_wording", {"text": new_words, "text_es": new_words_es}
    )
    assert response.status_code == 200
    version = re.search(r"Now: ([0-9a-z-]+)", response.text).group(1)
    assert version.endswith("-v1") and version != "2026-11-v1"
    portal.client.cookies.clear()
    portal.login()
    portal.save_person("Jordan", allow_texting=True)
    [request] = [m for m in portal.deliver() if m.to == ["jordan@demo.example"]]
    assert "about rehearsals" in request.text
    portal.client.cookies.clear()
    path = LINK_RE.search(request.text).group(1)
    assert "about rehearsals" in portal.client.get(path).text
    assert answer(portal, path, "yes", wording_version=version).status_code == 200
    jordan_events = portal.rows(
        "SELECT wording_version FROM consent_events e JOIN people p ON p.id = e.person_id"
        " WHERE p.first_name = 'Jordan' ORDER BY e.id"
    )
    assert jordan_events[-1].wording_version == version
    pat = portal.rows(
        "SELECT wording_version FROM consent_events e JOIN people p ON p.id = e.person_id"
        " WHERE p.first_name = 'Pat' ORDER BY e.id"
    )
    assert pat[0].wording_version == "2026-11-v1"  # earlier events keep what they pointed at


def test_an_answer_naming_another_wording_than_the_one_shown_now_is_shown_again(portal):
    portal.login()
    portal.save_person("Jordan", allow_texting=True)
    [request] = [m for m in portal.deliver() if m.to == ["jordan@demo.example"]]
    portal.client.cookies.clear()
    path = LINK_RE.search(request.text).group(1)
    before = portal.rows("SELECT COUNT(*) AS n FROM consent_events")[0].n
    for other in ("1999-never-published", "2026-11-v0"):
        again = answer(portal, path, "yes", wording_version=other)
        assert again.status_code == 409 and "Please read it again" in again.text
    assert portal.rows("SELECT COUNT(*) AS n FROM consent_events")[0].n == before
    assert answer(portal, path, "yes", wording_version="2026-11-v1").status_code == 200
    [last] = portal.rows("SELECT wording_version FROM consent_events ORDER BY id DESC LIMIT 1")
    assert last.wording_version == "2026-11-v1"


def test_wording_must_name_the_organization_and_use_known_blanks_only(portal):
    login_as(portal, "admin")
    complete = " Msg & data rates may apply. Reply HELP for help, STOP to stop."
    for bad in (
        "",
        "We will text you." + complete,
        "{org} texts {name}" + complete,
        "{org} texts {phone" + complete,
        "{org} may text {phone}.",  # no STOP, HELP or rates: carriers require them
        "{org} texts you.\x00" + complete,
        "{org} texts you.\u202e" + complete,
    ):
        response = settings_post(portal, "staff.settings_wording", {"text": bad})
        assert response.status_code == 400
    assert portal.rows("SELECT version FROM consent_wordings") == []


def test_a_new_stop_reply_is_sent_from_now_on_and_must_say_how_to_come_back(portal):
    login_as(portal, "admin")
    refused = settings_post(
        portal,
        "staff.settings_reply",
        {"kind": "opt_out", "language": "en", "text": "{org}: bye for now."},
    )
    assert refused.status_code == 400 and "Reply START" in refused.text
    settings_post(
        portal,
        "staff.settings_reply",
        {
            "kind": "opt_out",
            "language": "en",
            "text": "{org}: no more texts. Reply START to return.",
        },
    )
    portal.client.cookies.clear()
    receive_text(portal, PAT, "STOP")
    [reply] = portal.rows("SELECT body_text FROM outbox WHERE channel = 'sms'")
    assert reply.body_text == "Riverside Dance Academy: no more texts. Reply START to return."
    [row] = portal.rows("SELECT version FROM reply_texts")
    assert row.version == 2


def test_the_link_lifetime_staff_choose_applies_to_links_sent_after(portal, clock):
    login_as(portal, "admin")
    settings_post(portal, "staff.settings_organization", organization_form(link_days="2"))
    portal.client.cookies.clear()
    portal.login()
    portal.save_person("Jordan", allow_texting=True)
    [request] = [m for m in portal.deliver() if m.to == ["jordan@demo.example"]]
    portal.client.cookies.clear()
    path = LINK_RE.search(request.text).group(1)
    clock.advance(days=2, seconds=1)
    assert "This link has expired" in portal.client.get(path).text


def test_when_the_provider_answers_keywords_we_send_no_reply_of_our_own(portal):
    login_as(portal, "admin")
    settings_post(portal, "staff.settings_organization", organization_form(provider_answers="yes"))
    portal.client.cookies.clear()
    receive_text(portal, PAT, "STOP")
    assert portal.rows("SELECT id FROM outbox WHERE channel = 'sms'") == []
    assert portal.rows("SELECT active FROM phone_suppressions")[0].active == 1


def test_the_opt_in_confirmation_keeps_what_carriers_require(portal):
    login_as(portal, "admin")
    for bad in ("{org}: subscribed. Reply STOP to opt out.", "{org}: sí. STOP para salir."):
        language = "es" if "sí" in bad else "en"
        response = settings_post(
            portal, "staff.settings_reply", {"kind": "opt_in", "language": language, "text": bad}
        )
        assert response.status_code == 400 and "Carriers require" in response.text
    assert portal.rows("SELECT id FROM reply_texts") == []
