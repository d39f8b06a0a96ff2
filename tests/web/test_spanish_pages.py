"""Every page a parent or a contact sees, in Spanish: the language each request is answered
in, the switch on every public page, and no English left on a page shown in Spanish."""

from __future__ import annotations

import pytest
from consent_link_steps import answer, request_link_for_jordan
from i18n_steps import english_fragments, english_left_on, visible_text

from portal.i18n import negotiation
from portal.people import demo

FRAGMENTS = english_fragments()

PUBLIC_PAGES = [
    "/login",
    "/forgot-password",
    "/logout",
    "/reset-password/not-a-real-token",
    "/invite/not-a-real-token",
    "/text-consent/not-a-real-token",
    "/no-such-page",
]
ACCOUNT_PAGES = [
    "/account/settings",
    "/account/settings/edit",
    "/account/contacts",
    "/account/contacts/{jordan}/edit",
    "/account/students",
    "/account/students/{avery}",
    "/account/students/{avery}/edit",
    "/account/password",
]


def snapshot(portal) -> tuple:
    """What a language choice must never touch: consent, its ledger, the outbox."""
    return (
        [tuple(r.values()) for r in portal.rows("SELECT * FROM consent_state ORDER BY person_id")],
        portal.rows("SELECT COUNT(*) AS n FROM consent_events")[0].n,
        portal.rows("SELECT COUNT(*) AS n FROM outbox")[0].n,
    )


def pages_of(portal, paths):
    ids = {"jordan": portal.person_id("Jordan"), "avery": portal.person_id("Avery")}
    return {path: portal.client.get(path.format(**ids)) for path in paths}


def assert_spanish(page, where: str) -> None:
    assert '<html lang="es">' in page.text, where
    left = english_left_on(page.text, FRAGMENTS)
    assert left == [], f"{where} still says in English: {left}"


# --- the detector itself ----------------------------------------------------------------------


def test_the_english_check_finds_english_on_an_english_page(portal):
    """The check below is only worth something if it sees English where there is English."""
    page = portal.client.get("/login", headers={"Accept-Language": "en"})
    left = english_left_on(page.text, FRAGMENTS)
    assert {"Log in", "Forgot password?", "Password"} <= set(left)


# --- no English on pages shown in Spanish --------------------------------------------------


def test_every_public_page_is_in_spanish_for_a_spanish_browser(portal):
    portal.client.headers["Accept-Language"] = "es-MX,es;q=0.9,en;q=0.5"
    for path, page in pages_of(portal, PUBLIC_PAGES).items():
        assert_spanish(page, path)


def test_every_account_page_is_in_spanish_for_a_spanish_browser(parent):
    parent.client.headers["Accept-Language"] = "es"
    for path, page in pages_of(parent, ACCOUNT_PAGES).items():
        assert page.status_code == 200, path
        assert_spanish(page, path)


def test_a_refused_save_explains_itself_in_spanish(parent):
    parent.client.headers["Accept-Language"] = "es"
    jordan = parent.person_id("Jordan")
    page = parent.post(
        f"/account/contacts/{jordan}/edit",
        {"first_name": "", "last_name": "Parker", "email": "", "cell_phone": "12"},
    )
    assert page.status_code == 400
    assert "Corrija lo que está marcado abajo. No se guardó nada." in page.text
    assert "Escriba un nombre." in page.text
    assert "Ese número de teléfono no es válido. Incluya el código de área." in page.text
    assert_spanish(page, "refused save")


def test_the_emailed_link_pages_are_in_spanish_from_asking_to_already_answered(parent):
    path = request_link_for_jordan(parent)
    parent.client.headers["Accept-Language"] = "es"
    ask = parent.client.get(path)
    assert_spanish(ask, "ask")
    assert "Sí, envíenme mensajes de texto" in ask.text
    assert "No, no me envíen mensajes de texto" in ask.text
    thanks = answer(parent, path, "yes")
    assert_spanish(thanks, "thanks")
    assert "Gracias, Jordan" in thanks.text
    used = parent.client.get(path)
    assert_spanish(used, "already answered")
    assert "Sí, envíenme mensajes de texto" in visible_text(used.text)


def test_the_expired_form_page_is_in_spanish(portal):
    page = portal.client.post(
        "/login", data={"email": "x@example.com"}, headers={"Accept-Language": "es"}
    )
    assert page.status_code == 403
    assert_spanish(page, "403")


# --- the switch ---------------------------------------------------------------------------------


def test_every_public_page_has_the_language_switch(portal):
    for path, page in pages_of(portal, PUBLIC_PAGES).items():
        assert 'action="/language"' in page.text, path
        assert 'value="en"' in page.text and 'value="es"' in page.text, path


def test_every_account_page_has_the_language_switch(parent):
    for path, page in pages_of(parent, ACCOUNT_PAGES).items():
        assert 'action="/language"' in page.text, path


def test_the_switch_remembers_spanish_in_a_cookie_and_changes_no_consent(portal):
    before = snapshot(portal)
    switched = portal.post("/language", {"language": "es", "next": "/forgot-password"})
    assert switched.url.path == "/forgot-password"
    assert portal.client.cookies.get(negotiation.COOKIE) == "es"
    assert_spanish(switched, "after the switch")
    # Another page, a browser asking for English: the choice made here wins.
    again = portal.client.get("/login", headers={"Accept-Language": "en"})
    assert_spanish(again, "next page")
    back = portal.post("/language", {"language": "en", "next": "/login"})
    assert '<html lang="en">' in back.text and "Log in" in back.text
    assert snapshot(portal) == before


def test_the_switch_outranks_a_saved_language(parent):
    parent.post("/account/settings/edit", settings_form(parent, language="es"))
    page = parent.post("/language", {"language": "en", "next": "/account/settings"})
    assert '<html lang="en">' in page.text


@pytest.mark.parametrize("code", ["fr", "", "es-MX", "<script>", "e" * 500])
def test_the_switch_refuses_a_language_it_does_not_speak(portal, code):
    before = snapshot(portal)
    refused = portal.post("/language", {"language": code, "next": "/login"})
    assert refused.status_code == 400
    assert "Choose English or Español." in refused.text
    assert negotiation.COOKIE not in portal.client.cookies
    assert snapshot(portal) == before


def test_the_switch_sends_back_only_to_a_page_of_this_site(portal):
    switched = portal.client.post(
        "/language",
        data={"language": "es", "next": "//evil.example/", "csrf_token": portal.csrf()},
        follow_redirects=False,
    )
    assert switched.status_code == 303 and switched.headers["location"] == "/"


def test_a_get_of_the_switch_changes_nothing(portal):
    assert portal.client.get("/language?language=es").status_code == 405
    assert negotiation.COOKIE not in portal.client.cookies


# --- a saved language ---------------------------------------------------------------------------


def settings_form(portal, **changes) -> dict:
    [me] = portal.rows("SELECT * FROM people WHERE email = :e", {"e": demo.PARENT_EMAIL})
    return {
        "first_name": me.first_name,
        "last_name": me.last_name,
        "email": me.email,
        "cell_phone": me.cell_phone or "",
        "allow_texting_was": "off",
        **changes,
    }


def language_of(portal, first_name: str):
    return portal.rows("SELECT language FROM people WHERE first_name = :n", {"n": first_name})[
        0
    ].language


def test_a_parent_saves_their_own_language_and_sees_it_at_once(parent):
    before = snapshot(parent)
    page = parent.post("/account/settings/edit", settings_form(parent, language="es"))
    assert page.url.path == "/account/settings"
    assert language_of(parent, "Pat") == "es"
    assert_spanish(page, "settings after saving Spanish")
    assert "Guardado." in page.text
    # Saved on the person, not only in this browser: a new login on another device.
    parent.client.cookies.clear()
    parent.login()
    assert_spanish(parent.client.get("/account/contacts"), "another device")
    assert snapshot(parent) == before


def test_browser_default_forgets_a_saved_language(parent):
    parent.post("/account/settings/edit", settings_form(parent, language="es"))
    page = parent.post("/account/settings/edit", settings_form(parent, language=""))
    assert language_of(parent, "Pat") is None
    assert '<html lang="en">' in page.text


def test_a_parent_sets_the_language_of_a_contact_and_of_a_student(parent):
    before = snapshot(parent)
    jordan, avery = parent.person_id("Jordan"), parent.person_id("Avery")
    form = parent.client.get(f"/account/contacts/{jordan}/edit")
    assert '<select id="language" name="language"' in form.text
    parent.save_person("Jordan", allow_texting=False, language="es", allow_texting_was="off")
    parent.save_person("Avery", allow_texting=True, language="es", allow_texting_was="on")
    assert language_of(parent, "Jordan") == "es" and language_of(parent, "Avery") == "es"
    assert (
        'value="es" lang="es" selected' in parent.client.get(f"/account/students/{avery}/edit").text
    )
    # Another person's language is theirs: the parent's own pages stay as they were.
    assert '<html lang="en">' in parent.client.get("/account/contacts").text
    assert snapshot(parent) == before


@pytest.mark.parametrize("code", ["fr", "ES ", "english", "es'--"])
def test_an_unknown_language_is_refused_with_a_clear_error_and_nothing_saved(parent, code):
    jordan = parent.person_id("Jordan")
    before = (snapshot(parent), parent.rows("SELECT * FROM people ORDER BY id"))
    refused = parent.post(
        f"/account/contacts/{jordan}/edit",
        {
            "first_name": "Jordy",
            "last_name": "Parker",
            "email": "jordan@demo.example",
            "cell_phone": "",
            "language": code,
        },
    )
    assert refused.status_code == 400
    assert "Choose a language from the list." in refused.text
    assert (snapshot(parent), parent.rows("SELECT * FROM people ORDER BY id")) == before


def test_a_form_without_the_language_select_leaves_the_saved_language_alone(parent):
    parent.save_person("Jordan", allow_texting=False, language="es", allow_texting_was="off")
    parent.save_person("Jordan", allow_texting=False, allow_texting_was="off")
    assert language_of(parent, "Jordan") == "es"


def test_the_emailed_link_opens_in_the_saved_language_of_the_person_it_is_for(parent):
    parent.save_person("Jordan", allow_texting=False, language="es", allow_texting_was="off")
    path = request_link_for_jordan(parent)
    # Jordan's phone asks for English, but Jordan's saved language is Spanish.
    page = parent.client.get(path, headers={"Accept-Language": "en"})
    assert_spanish(page, "the link, saved Spanish")
    # The switch on that page still wins in this browser.
    switched = parent.post("/language", {"language": "en", "next": path}, token_from="/login")
    assert '<html lang="en">' in switched.text and "Yes, Send Me Text Messages" in switched.text


def test_the_staff_console_stays_english_until_its_spanish_is_written(portal):
    portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    page = portal.client.get("/staff/", headers={"Accept-Language": "es"})
    assert page.status_code == 200
    assert '<html lang="en">' in page.text and "Texts allowed" in page.text
    assert "Mensajes permitidos" not in page.text


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("typed", ["a@%.com", "50%(x)s@@example.com", "%s%d@%"])
def test_an_error_that_quotes_a_percent_sign_someone_typed_is_shown_not_a_crash(
    parent, language, typed
):
    parent.client.headers["Accept-Language"] = language
    jordan = parent.person_id("Jordan")
    refused = parent.post(
        f"/account/contacts/{jordan}/edit",
        {"first_name": "Jordan", "last_name": "Parker", "email": typed, "cell_phone": ""},
    )
    assert refused.status_code == 400
    assert 'class="error" id="email-error"' in refused.text
