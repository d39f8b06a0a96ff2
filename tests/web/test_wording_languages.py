"""The consent wording in the page's language: the CLICK HERE page shows it, the answer and a
portal toggle record the language in the ledger, proof shows it, and staff publish each new
version in English and Spanish together."""

from __future__ import annotations

import csv
import io

import pytest
from conftest import PUBLIC_URL, PortalDriver
from consent_link_steps import LINK_RE, answer, request_link_for_jordan
from staff_steps import login_as
from starlette.testclient import TestClient

from portal.clock import to_db
from portal.consent import wording
from portal.people import demo

JORDAN = "+12015550102"
SPANISH_WORDS = "El consentimiento no es una condición para la inscripción"
ENGLISH_WORDS = "Consent is not a condition of enrollment"


class PageLanguage:
    """Sets `request.state.language` as the i18n layer does on every request, so the pages'
    language can be chosen here; the browser also asks for it with Accept-Language."""

    def __init__(self, app) -> None:
        self.app = app
        self.language: str | None = None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and self.language:
            scope = {**scope, "state": {**scope.get("state", {}), "language": self.language}}
        await self.app(scope, receive, send)


@pytest.fixture
def page_language(app):
    return PageLanguage(app)


@pytest.fixture
def portal(app, mailbox, page_language):
    with TestClient(page_language, base_url=PUBLIC_URL) as client:
        driver = PortalDriver(client, app, mailbox)
        driver.call(demo.load, app.state.ctx)
        yield driver


def ask_jordan(portal) -> str:
    """The parent turns Jordan's texting on; Jordan gets the CLICK HERE email."""
    portal.login()
    return request_link_for_jordan(portal)


def read_in(portal, page_language, language: str) -> None:
    page_language.language = language
    portal.client.headers["Accept-Language"] = language


def last_event(portal, first_name: str):
    return portal.rows(
        "SELECT e.new_status, e.channel, e.wording_version, e.language FROM consent_events e"
        " JOIN people p ON p.id = e.person_id WHERE p.first_name = :n ORDER BY e.id DESC"
        " LIMIT 1",
        {"n": first_name},
    )[0]


def test_every_shipped_version_has_a_spanish_text_with_what_carriers_require():
    for version in wording.WORDINGS:
        spanish = wording.WORDINGS_ES[version]
        assert "{org}" in spanish and "{phone}" in spanish
        assert all(word in spanish.upper() for word in ("STOP", "AYUDA", "TARIFAS"))


def test_a_spanish_page_shows_the_spanish_wording_and_the_yes_records_spanish(
    portal, page_language
):
    path = ask_jordan(portal)
    read_in(portal, page_language, "es")
    page = portal.client.get(path)
    assert SPANISH_WORDS in page.text and ENGLISH_WORDS not in page.text
    assert "•••-•••-0102" in page.text
    assert answer(portal, path, "yes", wording_version="2026-11-v1").status_code == 200
    event = last_event(portal, "Jordan")
    assert (event.new_status, event.channel, event.wording_version, event.language) == (
        "opted_in",
        "email_link",
        "2026-11-v1",
        "es",
    )
    # Proof shows the words in the language the person read them in.
    login_as(portal, "admin")
    history = portal.client.get(f"/staff/people/{portal.person_id('Jordan')}").text
    assert "(2026-11-v1, in Spanish)" in history and SPANISH_WORDS in history
    proof = portal.client.get(f"/staff/proof/numbers/{JORDAN}").text
    assert "Version 2026-11-v1, Spanish" in proof and SPANISH_WORDS in proof
    download = portal.client.get(f"/staff/proof/numbers/{JORDAN}/export.csv").text
    [yes] = [r for r in csv.DictReader(io.StringIO(download)) if r["channel"] == "email_link"]
    assert yes["language"] == "es" and SPANISH_WORDS in yes["wording_text"]
    ledger = csv.DictReader(io.StringIO(portal.client.get("/staff/proof/export.csv").text))
    languages = {r["channel"]: r["language"] for r in ledger if r["first_name"] == "Jordan"}
    assert languages == {"portal": "en", "email_link": "es"}


def test_an_english_page_shows_and_records_english(portal, page_language):
    path = ask_jordan(portal)
    read_in(portal, page_language, "en")
    page = portal.client.get(path)
    assert ENGLISH_WORDS in page.text and SPANISH_WORDS not in page.text
    assert answer(portal, path, "no").status_code == 200
    assert last_event(portal, "Jordan").language == "en"


def test_a_parents_toggle_records_the_language_of_the_page_it_was_on(portal, page_language):
    read_in(portal, page_language, "es")
    portal.login()
    assert portal.save_person("Avery", allow_texting=False).status_code == 200
    event = last_event(portal, "Avery")
    assert (event.new_status, event.channel, event.language) == ("opted_out", "portal", "es")
    read_in(portal, page_language, "en")
    portal.save_person("Avery", allow_texting=True)
    event = last_event(portal, "Avery")
    assert (event.new_status, event.channel, event.language) == ("opted_in", "portal", "en")


def test_staff_actions_and_the_demo_import_record_no_language(portal):
    rows = portal.rows("SELECT DISTINCT language FROM consent_events WHERE channel = 'import'")
    assert [r.language for r in rows] == [None]


def publish(portal, **form):
    return portal.post("/staff/settings/wording", form, token_from="/staff/settings")


NEW_EN = (
    "{org} will text {phone} about rehearsals, weekly. Message and data rates may apply."
    " Reply STOP to stop, HELP for help."
)
NEW_ES = (
    "{org} enviará mensajes a {phone} sobre ensayos, cada semana. Pueden aplicarse tarifas"
    " de mensajes y datos. Responda STOP para cancelar, AYUDA para obtener ayuda."
)


@pytest.mark.parametrize(
    "form",
    [
        {"text": NEW_EN},
        {"text": NEW_EN, "text_es": "   "},
        {"text": NEW_EN, "text_es": "{org} enviará mensajes a {phone}."},  # no STOP, AYUDA...
        {"text": NEW_EN, "text_es": NEW_ES.replace("{phone}", "{telefono}")},
        {"text": "", "text_es": NEW_ES},
    ],
)
def test_a_version_is_not_published_without_both_languages_complete(portal, form):
    login_as(portal, "admin")
    response = publish(portal, **form)
    assert response.status_code == 400 and "Nothing was published" in response.text
    assert portal.rows("SELECT version FROM consent_wordings") == []
    assert portal.rows("SELECT id FROM staff_actions") == []


def test_a_version_published_in_both_languages_is_shown_in_each(portal, page_language):
    login_as(portal, "admin")
    response = publish(portal, text=NEW_EN, text_es=NEW_ES)
    assert response.status_code == 200 and "sobre ensayos" in response.text
    [row] = portal.rows("SELECT version, text, text_es FROM consent_wordings")
    assert (row.text, row.text_es) == (NEW_EN, NEW_ES)
    portal.client.cookies.clear()
    path = ask_jordan(portal)
    read_in(portal, page_language, "es")
    assert "sobre ensayos" in portal.client.get(path).text
    assert answer(portal, path, "yes", wording_version=row.version).status_code == 200
    event = last_event(portal, "Jordan")
    assert (event.wording_version, event.language) == (row.version, "es")


def test_a_version_published_before_spanish_is_shown_in_english_and_recorded_so(
    portal, page_language
):
    old_words = NEW_EN.replace("rehearsals", "old rehearsals")

    async def published_before_spanish():
        async with portal.ctx.db.write() as conn:
            await conn.execute(
                "INSERT INTO consent_wordings (version, text, created_at)"
                " VALUES ('2026-11-25-v1', :text, :now)",
                {"text": old_words, "now": to_db(portal.ctx.now())},
            )

    portal.call(published_before_spanish)
    path = ask_jordan(portal)
    read_in(portal, page_language, "es")
    assert "old rehearsals" in portal.client.get(path).text
    assert answer(portal, path, "yes", wording_version="2026-11-25-v1").status_code == 200
    assert last_event(portal, "Jordan").language == "en"  # what they read, not the page's


def test_the_request_email_carries_the_wording_in_the_persons_saved_language(portal):
    async def spanish_jordan():
        async with portal.ctx.db.write() as conn:
            await conn.execute("UPDATE people SET language = 'es' WHERE first_name = 'Jordan'")

    portal.call(spanish_jordan)
    portal.login()
    portal.save_person("Jordan", allow_texting=True)
    [request] = [m for m in portal.deliver() if m.to == ["jordan@demo.example"]]
    assert SPANISH_WORDS in request.text and LINK_RE.search(request.text)
