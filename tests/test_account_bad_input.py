"""Bad input gets a clear answer and changes nothing (issue 2's list), through the real app."""

from __future__ import annotations

import dataclasses

import pytest
from aiosmtpd.controller import Controller
from conftest import PUBLIC_URL, PortalDriver
from starlette.testclient import TestClient

from portal import demo
from portal.app import create_app
from portal.mailcatcher import MailCatcher, free_port


def snapshot(portal) -> tuple:
    """Everything a bad request must leave as it was."""
    return (
        portal.rows("SELECT id, first_name, last_name, email, cell_phone FROM people ORDER BY id"),
        portal.rows("SELECT person_id, status, version FROM consent_state ORDER BY person_id"),
        portal.rows("SELECT COUNT(*) AS n FROM consent_events"),
        portal.rows("SELECT COUNT(*) AS n FROM outbox"),
    )


def edit_form(first="Avery", last="Parker", phone="(201) 555-0103", allow=True, **extra):
    form = {"first_name": first, "last_name": last, "cell_phone": phone, **extra}
    if allow:
        form["allow_texting"] = "on"
    return form


@pytest.fixture
def lee(portal):
    """The second family's parent, logged in, aiming at the Parker family's ids."""
    portal.login(demo.SECOND_PARENT_EMAIL, demo.SECOND_PARENT_PASSWORD)
    return portal


@pytest.mark.parametrize(
    "path",
    [
        "/account/students/{avery}",
        "/account/students/{avery}/edit",
        "/account/contacts/{jordan}/edit",
        "/account/students/{jordan}/edit",
        "/account/contacts/{avery}/edit",
        "/account/students/99999",
        "/account/students/abc",
    ],
)
def test_another_familys_ids_answer_404_on_get(lee, path):
    url = path.format(avery=lee.person_id("Avery"), jordan=lee.person_id("Jordan"))
    response = lee.client.get(url)
    assert response.status_code == 404
    assert "Avery" not in response.text and "Jordan" not in response.text


def test_another_familys_ids_answer_404_on_post_and_nothing_changes(lee):
    before = snapshot(lee)
    avery, jordan = lee.person_id("Avery"), lee.person_id("Jordan")
    token = lee.csrf("/account/settings")
    for url, form in (
        (f"/account/students/{avery}/edit", edit_form(allow=False)),
        (
            f"/account/contacts/{jordan}/edit",
            edit_form("Jordan", email="x@evil.example", phone="2015550199"),
        ),
        (f"/account/contacts/{jordan}/invite", {}),
    ):
        response = lee.client.post(url, data={**form, "csrf_token": token})
        assert response.status_code == 404
    assert snapshot(lee) == before


@pytest.mark.parametrize("token", [None, "", "wrong", "0" * 64])
def test_a_post_without_the_right_csrf_token_is_refused_and_changes_nothing(parent, token):
    before = snapshot(parent)
    avery = parent.person_id("Avery")
    form = edit_form(allow=False)
    if token is not None:
        form["csrf_token"] = token
    response = parent.client.post(f"/account/students/{avery}/edit", data=form)
    assert response.status_code == 403
    assert "This form has expired" in response.text
    assert snapshot(parent) == before


def test_a_csrf_token_from_another_session_is_refused(portal):
    portal.login(demo.SECOND_PARENT_EMAIL, demo.SECOND_PARENT_PASSWORD)
    lees_token = portal.csrf("/account/settings")
    portal.client.cookies.clear()
    portal.login()
    before = snapshot(portal)
    response = portal.client.post(
        f"/account/students/{portal.person_id('Avery')}/edit",
        data={**edit_form(allow=False), "csrf_token": lees_token},
    )
    assert response.status_code == 403
    assert snapshot(portal) == before


def test_gets_to_every_changing_url_change_nothing(parent):
    before = snapshot(parent)
    avery, jordan = parent.person_id("Avery"), parent.person_id("Jordan")
    for url in (
        f"/account/students/{avery}/edit?allow_texting=",
        f"/account/contacts/{jordan}/edit?allow_texting=on",
        "/logout",
        "/account/password",
        "/forgot-password",
    ):
        assert parent.client.get(url).status_code in (200, 404)
    assert parent.client.get(f"/account/contacts/{jordan}/invite").status_code == 405
    assert snapshot(parent) == before
    assert parent.client.get("/account/settings").status_code == 200  # still logged in


@pytest.mark.parametrize(
    "phone, message",
    [
        ("555", "not valid"),
        ("not a phone", "does not look like a phone number"),
        ("+1 800 555 0100", "cannot receive text messages"),
        ("1" * 50, "too long"),
    ],
)
def test_a_malformed_phone_shows_the_form_again_with_the_message(parent, phone, message):
    before = snapshot(parent)
    response = parent.post(
        f"/account/students/{parent.person_id('Avery')}/edit", edit_form(phone=phone)
    )
    assert response.status_code == 400
    assert message in response.text and "Nothing was saved" in response.text
    assert f'value="{phone}"' in response.text  # what they typed is kept for them to fix
    assert snapshot(parent) == before


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "jordan@@demo.example", "x" * 300])
def test_a_malformed_email_shows_the_form_again_with_the_message(parent, email):
    before = snapshot(parent)
    response = parent.post(
        f"/account/contacts/{parent.person_id('Jordan')}/edit",
        edit_form("Jordan", email=email, phone="(201) 555-0102", allow=False),
    )
    assert response.status_code == 400
    assert "email address is not valid" in response.text
    assert snapshot(parent) == before


def test_an_email_already_used_by_another_contact_is_refused(parent):
    before = snapshot(parent)
    response = parent.post(
        f"/account/contacts/{parent.person_id('Jordan')}/edit",
        edit_form("Jordan", email=demo.SECOND_PARENT_EMAIL, phone="(201) 555-0102", allow=False),
    )
    assert response.status_code == 400 and "already uses that email" in response.text
    assert snapshot(parent) == before


@pytest.mark.parametrize("name", ["Avery\nBcc: evil@example.com", "Avery\r\nX: y", "A\u2028B"])
def test_names_with_line_breaks_are_refused(parent, name):
    before = snapshot(parent)
    response = parent.post(
        f"/account/students/{parent.person_id('Avery')}/edit", edit_form(first=name, allow=False)
    )
    assert response.status_code == 400 and "cannot contain line breaks" in response.text
    assert snapshot(parent) == before


def test_names_with_markup_are_escaped_in_pages_and_in_the_office_email(parent):
    hostile = "<script>alert(1)</script>"
    other = '"><img src=x onerror=alert(1)>'
    avery = parent.person_id("Avery")
    response = parent.post(
        f"/account/students/{avery}/edit", edit_form(first=hostile, last=other, allow=False)
    )
    assert response.status_code == 200
    for page in (response.text, parent.client.get("/account/students").text):
        assert hostile not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    [mail] = parent.deliver()
    assert hostile not in mail.html and "&lt;script&gt;" in mail.html
    assert hostile in mail.subject  # plain text in a one-line header is harmless
    assert "\n" not in mail.subject


def test_a_new_phone_number_resets_consent_and_asks_the_person_by_email(parent):
    jordan = parent.person_id("Jordan")
    # Jordan is asked first (pending for the old number), then the parent changes the number.
    parent.post(
        f"/account/contacts/{jordan}/edit",
        edit_form("Jordan", email="jordan@demo.example", phone="(201) 555-0102"),
    )
    parent.deliver()
    response = parent.post(
        f"/account/contacts/{jordan}/edit",
        edit_form("Jordan", email="jordan@demo.example", phone="(201) 555-0188", allow=False),
    )
    assert response.status_code == 200
    [state] = parent.rows(
        "SELECT status, phone FROM consent_state WHERE person_id = :p", {"p": jordan}
    )
    assert (state.status, state.phone) == ("none", "+12015550188")
    [mail] = parent.deliver()
    assert mail.to == ["jordan@demo.example"] and "•••-•••-0188" in mail.text


def test_a_parent_turning_on_another_adult_makes_them_pending_not_opted_in(parent):
    jordan = parent.person_id("Jordan")
    response = parent.post(
        f"/account/contacts/{jordan}/edit",
        edit_form("Jordan", email="jordan@demo.example", phone="(201) 555-0102"),
    )
    assert "Waiting for Jordan to confirm" in response.text
    [state] = parent.rows("SELECT status FROM consent_state WHERE person_id = :p", {"p": jordan})
    assert state.status == "pending"


def test_a_double_click_records_one_change_and_one_email(parent):
    avery = parent.person_id("Avery")
    token = parent.csrf("/account/settings")
    for _ in range(2):
        parent.client.post(
            f"/account/students/{avery}/edit", data={**edit_form(allow=False), "csrf_token": token}
        )
    assert (
        parent.rows("SELECT COUNT(*) AS n FROM consent_events WHERE person_id = :p", {"p": avery})[
            0
        ].n
        == 2
    )  # the demo opt-in, then one opt-out
    assert len(parent.deliver()) == 1


def test_smtp_down_during_a_change_the_change_stands_and_the_email_goes_out_later(settings, clock):
    port = free_port()  # nothing listens here yet
    down = dataclasses.replace(settings, smtp_port=port)
    app = create_app(down, clock=clock, start_dispatcher=False)
    catcher = MailCatcher(port=port)
    with TestClient(app, base_url=PUBLIC_URL) as client:
        portal = PortalDriver(client, app, catcher)
        portal.call(demo.load, app.state.ctx)
        portal.login()
        avery = portal.person_id("Avery")
        response = portal.post(f"/account/students/{avery}/edit", edit_form(allow=False))
        assert "Texts not allowed" in response.text
        portal.call(app.state.dispatcher.drain)
        [row] = portal.rows("SELECT status, attempts, last_error, next_attempt_at FROM outbox")
        assert (row.status, row.attempts) == ("pending", 1) and row.last_error
        catcher.start()  # the server comes back
        try:
            assert portal.deliver() == []  # not due yet: backoff holds
            clock.advance(seconds=15)
            [mail] = portal.deliver()
            assert mail.subject == "Text messaging opt-out: Avery Parker"
            assert portal.rows("SELECT status FROM outbox")[0].status == "sent"
        finally:
            catcher.stop()


class _Refusing:
    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
        return "554 5.7.1 Rejected by policy"


def test_a_5xx_answer_marks_the_email_failed_and_keeps_the_row(settings, clock, mailbox):
    port = free_port()
    refusing = Controller(_Refusing(), hostname="127.0.0.1", port=port)
    refusing.start()
    try:
        app = create_app(
            dataclasses.replace(settings, smtp_port=port), clock=clock, start_dispatcher=False
        )
        with TestClient(app, base_url=PUBLIC_URL) as client:
            portal = PortalDriver(client, app, mailbox)
            portal.call(demo.load, app.state.ctx)
            portal.login()
            portal.post(
                f"/account/students/{portal.person_id('Avery')}/edit", edit_form(allow=False)
            )
            portal.call(app.state.dispatcher.drain)
            [row] = portal.rows("SELECT status, attempts, last_error FROM outbox")
            assert row.status == "failed" and row.attempts == 1 and "554" in row.last_error
    finally:
        refusing.stop()


def test_another_adult_without_an_email_cannot_be_turned_on_and_nothing_is_half_saved(parent):
    jordan = parent.person_id("Jordan")
    before = snapshot(parent)
    response = parent.post(
        f"/account/contacts/{jordan}/edit",
        edit_form("Jordan Renamed", email="", phone="(201) 555-0102"),
    )
    assert response.status_code == 400
    assert "Add an email address for Jordan" in response.text
    assert snapshot(parent) == before  # the new name was rolled back with the refusal
