"""Bad input on Account pages gets a clear answer and changes nothing (issue 2)."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt

import pytest
from aiosmtpd.controller import Controller
from conftest import PUBLIC_URL, PortalDriver
from starlette.testclient import TestClient

from portal.app import create_app
from portal.clock import to_db
from portal.consent import commands, rules
from portal.messaging.mailcatcher import MailCatcher, free_port
from portal.people import demo

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'


def snapshot(portal) -> tuple:
    """Everything a change could touch: people, consent state and ledger, outbox, links."""
    return (
        [tuple(r.values()) for r in portal.rows("SELECT * FROM people ORDER BY id")],
        [tuple(r.values()) for r in portal.rows("SELECT * FROM consent_state ORDER BY person_id")],
        portal.rows("SELECT COUNT(*) AS n FROM consent_events")[0].n,
        portal.rows("SELECT COUNT(*) AS n FROM outbox")[0].n,
        portal.rows("SELECT COUNT(*) AS n FROM links")[0].n,
        [tuple(r.values()) for r in portal.rows("SELECT id, email, password_hash FROM accounts")],
    )


def jordan_form(**changes) -> dict:
    return {
        "first_name": "Jordan",
        "last_name": "Parker",
        "email": "jordan@demo.example",
        "cell_phone": "+12015550102",
        **changes,
    }


def outbox_rows(portal, template=None):
    rows = portal.rows("SELECT * FROM outbox ORDER BY id")
    return [r for r in rows if template is None or r.template == template]


@pytest.fixture
def lee(portal):
    """The Lee family's parent, logged in, next to the Parker family's data."""
    response = portal.login(demo.SECOND_PARENT_EMAIL, demo.SECOND_PARENT_PASSWORD)
    assert response.status_code == 200
    return portal


# --- another family's ids ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/account/contacts/{jordan}/edit",
        "/account/contacts/{pat}/edit",
        "/account/students/{avery}",
        "/account/students/{avery}/edit",
    ],
)
def test_another_familys_ids_answer_404_on_get_and_change_nothing(lee, path):
    ids = {n.lower(): lee.person_id(n) for n in ("Jordan", "Pat", "Avery")}
    before = snapshot(lee)
    page = lee.client.get(path.format(**ids))
    assert page.status_code == 404
    assert "Parker" not in page.text
    assert snapshot(lee) == before


@pytest.mark.parametrize(
    "path",
    [
        "/account/contacts/{jordan}/edit",
        "/account/contacts/{pat}/edit",
        "/account/students/{avery}/edit",
    ],
)
def test_another_familys_ids_answer_404_on_post_and_change_nothing(lee, path):
    ids = {n.lower(): lee.person_id(n) for n in ("Jordan", "Pat", "Avery")}
    before = snapshot(lee)
    response = lee.post(
        path.format(**ids),
        {
            "first_name": "Hacked",
            "last_name": "Lee",
            "email": "",
            "cell_phone": "",
            "allow_texting": "on",
        },
        token_from="/account/settings/edit",
    )
    assert response.status_code == 404
    assert snapshot(lee) == before


@pytest.mark.parametrize(
    "path",
    [
        "/account/students/{morgan}",
        "/account/contacts/{casey}/edit",
        "/account/students/abc/edit",
        "/account/students/99999",
    ],
)
def test_a_wrong_kind_or_unknown_id_answers_404(lee, path):
    ids = {"morgan": lee.person_id("Morgan"), "casey": lee.person_id("Casey")}
    assert lee.client.get(path.format(**ids)).status_code == 404


# --- CSRF -------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "0" * 64, "not-a-token"])
def test_a_missing_or_wrong_csrf_token_is_refused_and_changes_nothing(parent, token):
    jordan = parent.person_id("Jordan")
    before = snapshot(parent)
    data = jordan_form(first_name="Changed", allow_texting="on")
    if token is not None:
        data["csrf_token"] = token
    response = parent.client.post(f"/account/contacts/{jordan}/edit", data=data)
    assert response.status_code == 403
    assert snapshot(parent) == before


def test_a_csrf_token_from_another_session_is_refused(portal):
    anonymous_token = portal.csrf("/login")
    portal.login()
    jordan = portal.person_id("Jordan")
    before = snapshot(portal)
    response = portal.client.post(
        f"/account/contacts/{jordan}/edit",
        data={**jordan_form(allow_texting="on"), "csrf_token": anonymous_token},
    )
    assert response.status_code == 403
    assert snapshot(portal) == before


def test_a_get_to_a_changing_url_changes_nothing(parent):
    jordan, avery = parent.person_id("Jordan"), parent.person_id("Avery")
    before = snapshot(parent)
    parent.client.get(
        f"/account/contacts/{jordan}/edit",
        params=jordan_form(first_name="Changed", allow_texting="on"),
    )
    parent.client.get(
        f"/account/students/{avery}/edit", params={"first_name": "X", "last_name": "Y"}
    )
    parent.client.get("/account/settings/edit", params={"cell_phone": "+12015550199"})
    parent.client.get("/account/password", params={"new_password": "whatever-password-1"})
    assert snapshot(parent) == before


# --- malformed input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("cell_phone", "555-CALL-NOW", None),
        ("cell_phone", "12345", None),
        ("cell_phone", "+1 201 555", None),
        ("email", "not-an-email", "not valid"),
        ("email", "jordan@", "not valid"),
        ("email", "parent@demo.example", "Another contact already uses that email"),
        ("first_name", "", "Enter a name"),
        ("first_name", "J" * 81, "at most 80"),
    ],
)
def test_malformed_details_show_the_form_again_and_save_nothing(parent, field, value, message):
    jordan = parent.person_id("Jordan")
    before = snapshot(parent)
    response = parent.post(f"/account/contacts/{jordan}/edit", jordan_form(**{field: value}))
    assert response.status_code == 400
    assert "Nothing was saved" in response.text
    assert 'class="error"' in response.text
    if message:
        assert message in response.text
    assert snapshot(parent) == before


@pytest.mark.parametrize(
    "name",
    [
        "Jordan\r\nBcc: victim@evil.example",
        "Jordan\nParker",
        "Jordan\rX",
        "Jordan\u2028X",
        "Jo\x00rdan",
    ],
)
def test_names_with_line_breaks_or_control_characters_are_refused(parent, name):
    jordan = parent.person_id("Jordan")
    before = snapshot(parent)
    response = parent.post(f"/account/contacts/{jordan}/edit", jordan_form(first_name=name))
    assert response.status_code == 400
    assert "cannot contain line breaks" in response.text
    assert snapshot(parent) == before


# --- markup in names --------------------------------------------------------------------------


@pytest.mark.parametrize("name", [SCRIPT, IMG])
def test_markup_in_a_name_is_escaped_in_pages_and_in_the_html_email(parent, name):
    jordan = parent.person_id("Jordan")
    response = parent.post(
        f"/account/contacts/{jordan}/edit", jordan_form(first_name=name, allow_texting="on")
    )
    assert response.status_code == 200, response.text
    for page in (response, parent.client.get(f"/account/contacts/{jordan}/edit")):
        assert name not in page.text
        assert "<img src=x" not in page.text and "<script>alert" not in page.text
    [mail] = parent.deliver()
    assert mail.to == ["jordan@demo.example"]
    assert name not in mail.html
    assert "<script>alert" not in mail.html and "<img src=x" not in mail.html
    assert "&lt;" in mail.html


@pytest.mark.parametrize("name", [SCRIPT, IMG])
def test_markup_in_a_students_name_is_escaped_in_the_office_email(parent, name):
    avery = parent.person_id("Avery")
    response = parent.post(
        f"/account/students/{avery}/edit",
        {"first_name": name, "last_name": "Parker", "cell_phone": "+12015550103"},
    )
    assert response.status_code == 200
    assert name not in response.text
    [mail] = parent.deliver()
    assert mail.to == ["office@demo.example"]
    assert (
        name not in mail.html and "<img src=x" not in mail.html and "<script>alert" not in mail.html
    )
    assert "\n" not in mail.subject


# --- consent through the form -----------------------------------------------------------------


def test_a_phone_change_resets_consent_and_emails_an_opt_in_request(parent):
    response = parent.post(
        "/account/settings/edit",
        {
            "first_name": "Pat",
            "last_name": "Parker",
            "email": demo.PARENT_EMAIL,
            "cell_phone": "+1 201 555 0199",
        },
    )
    assert response.status_code == 200
    assert "Texts not allowed" in response.text
    [person] = parent.rows("SELECT cell_phone FROM people WHERE first_name = 'Pat'")
    assert person.cell_phone == "+12015550199"
    [event] = parent.rows("SELECT * FROM consent_events ORDER BY id DESC LIMIT 1")
    assert (event.channel, event.new_status, event.phone) == (
        "phone_change",
        "none",
        "+12015550199",
    )
    mails = parent.deliver()
    assert [m.to for m in mails] == [[demo.PARENT_EMAIL]]
    assert "/text-consent/" in mails[0].text


def test_a_parent_turning_on_another_adult_makes_them_pending(parent):
    jordan = parent.person_id("Jordan")
    response = parent.post(f"/account/contacts/{jordan}/edit", jordan_form(allow_texting="on"))
    assert response.status_code == 200
    assert "Waiting for Jordan to confirm" in response.text
    [state] = parent.rows("SELECT status FROM consent_state WHERE person_id = :p", {"p": jordan})
    assert state.status == "pending"
    [mail] = parent.deliver()
    assert mail.to == ["jordan@demo.example"]
    # Saving the same form again (a double click) asks nobody twice.
    before = snapshot(parent)
    parent.post(f"/account/contacts/{jordan}/edit", jordan_form(allow_texting="on"))
    assert snapshot(parent) == before


def test_another_adult_without_an_email_cannot_be_turned_on(parent):
    jordan = parent.person_id("Jordan")
    before = snapshot(parent)
    response = parent.post(
        f"/account/contacts/{jordan}/edit", jordan_form(email="", allow_texting="on")
    )
    assert response.status_code == 400
    assert "Add an email address for Jordan first" in response.text
    assert snapshot(parent) == before  # the details were not half-saved either


# --- SMTP trouble -----------------------------------------------------------------------------


@contextlib.contextmanager
def portal_on_smtp_port(settings, clock, mailbox, port):
    app = create_app(
        dataclasses.replace(settings, smtp_port=port), clock=clock, start_dispatcher=False
    )
    with TestClient(app, base_url=PUBLIC_URL) as client:
        driver = PortalDriver(client, app, mailbox)
        driver.call(demo.load, app.state.ctx)
        assert driver.login().status_code == 200
        yield driver


def opt_out_avery(driver):
    avery = driver.person_id("Avery")
    response = driver.post(
        f"/account/students/{avery}/edit",
        {"first_name": "Avery", "last_name": "Parker", "cell_phone": "+12015550103"},
    )
    assert response.status_code == 200
    assert "Texts not allowed" in response.text


def test_with_smtp_down_the_change_stands_and_the_email_retries_until_the_server_is_back(
    settings, clock, mailbox
):
    port = free_port()
    with portal_on_smtp_port(settings, clock, mailbox, port) as driver:
        opt_out_avery(driver)
        assert driver.deliver() == []
        [row] = outbox_rows(driver)
        assert (row.status, row.attempts) == ("pending", 1)
        assert row.last_error
        first_try = row.next_attempt_at

        # Not due yet: nothing is tried again before the backoff passes.
        driver.deliver()
        assert outbox_rows(driver)[0].attempts == 1

        clock.advance(seconds=15)
        driver.deliver()
        [row] = outbox_rows(driver)
        assert row.attempts == 2 and row.next_attempt_at > first_try  # backs off further

        # The change itself stood all along.
        [state] = driver.rows(
            "SELECT status FROM consent_state WHERE person_id = :p",
            {"p": driver.person_id("Avery")},
        )
        assert state.status == "opted_out"

        server = MailCatcher(port=port).start()
        try:
            clock.advance(seconds=30)
            driver.deliver()
            # The server that came back on the configured port got it (not the shared mailbox).
            [mail] = server.messages()
        finally:
            server.stop()
        [row] = outbox_rows(driver)
        assert row.status == "sent" and row.sent_at is not None
        assert mail.to == ["office@demo.example"] and mail.message_id == row.message_id


class AnsweringHandler:
    """A real SMTP server that answers every message with one fixed reply."""

    def __init__(self, reply: str) -> None:
        self.reply = reply

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        return self.reply


@contextlib.contextmanager
def portal_on_smtp_answering(reply: str, settings, clock, mailbox):
    """The portal, sending to an SMTP server that answers every message with `reply`."""
    port = free_port()
    controller = Controller(AnsweringHandler(reply), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with portal_on_smtp_port(settings, clock, mailbox, port) as driver:
            yield driver
    finally:
        controller.stop()


def test_a_5xx_answer_marks_the_outbox_row_failed(settings, clock, mailbox):
    with portal_on_smtp_answering("554 5.7.1 Message rejected", settings, clock, mailbox) as driver:
        opt_out_avery(driver)
        driver.deliver()
        [row] = outbox_rows(driver)
        assert row.status == "failed"
        assert "554" in row.last_error
        clock.advance(hours=2)
        driver.deliver()
        assert outbox_rows(driver)[0].attempts == row.attempts  # never tried again


def test_the_account_holder_cannot_blank_their_email_through_the_contacts_page(parent):
    pat = parent.person_id("Pat")
    before = snapshot(parent)
    response = parent.post(
        f"/account/contacts/{pat}/edit",
        {"first_name": "Pat", "last_name": "Parker", "email": "", "cell_phone": "+12015550101"},
    )
    assert response.status_code == 400
    assert "it is how you log in" in response.text
    assert snapshot(parent) == before


def test_a_form_change_records_who_from_where_in_the_ledger(parent):
    avery = parent.person_id("Avery")
    parent.client.headers["user-agent"] = "Phone Browser 1.0"
    parent.post(
        f"/account/students/{avery}/edit",
        {"first_name": "Avery", "last_name": "Parker", "cell_phone": "+12015550103"},
    )
    [event] = parent.rows("SELECT * FROM consent_events ORDER BY id DESC LIMIT 1")
    assert (event.person_id, event.new_status, event.channel) == (avery, "opted_out", "portal")
    assert event.actor_kind == "contact" and event.actor_label == "Pat Parker <parent@demo.example>"
    assert event.user_agent == "Phone Browser 1.0" and event.ip


def test_submitting_the_same_opt_out_twice_records_and_sends_nothing_more(parent):
    avery = parent.person_id("Avery")
    form = {"first_name": "Avery", "last_name": "Parker", "cell_phone": "+12015550103"}
    parent.post(f"/account/students/{avery}/edit", form)
    before = snapshot(parent)
    response = parent.post(f"/account/students/{avery}/edit", form)
    assert response.status_code == 200
    assert snapshot(parent) == before
    assert len(parent.deliver()) == 1


def test_a_4xx_answer_is_retried_with_backoff(settings, clock, mailbox):
    with portal_on_smtp_answering("451 4.3.0 Try again later", settings, clock, mailbox) as driver:
        opt_out_avery(driver)
        driver.deliver()
        [row] = outbox_rows(driver)
        assert (row.status, row.attempts) == ("pending", 1)
        assert "451" in row.last_error
        assert row.next_attempt_at == to_db(clock.now() + dt.timedelta(seconds=15))
        clock.advance(seconds=15)
        driver.deliver()
        [row] = outbox_rows(driver)
        assert row.attempts == 2
        assert row.next_attempt_at == to_db(clock.now() + dt.timedelta(seconds=30))


def stop_number(portal, phone):
    async def run():
        async with portal.ctx.db.write() as conn:
            await commands.suppress_number(
                conn,
                portal.ctx,
                phone=phone,
                channel=rules.Channel.SMS_KEYWORD,
                actor=rules.Actor(kind="handset", label=phone),
                evidence={"message_sid": "SM1", "body": "STOP"},
            )

    portal.call(run)


def test_a_stopped_number_says_how_to_resume_and_a_forged_opt_in_changes_nothing(parent):
    avery = parent.person_id("Avery")
    stop_number(parent, "+12015550103")
    page = parent.client.get(f"/account/students/{avery}/edit")
    assert "This number replied STOP. Text START to (201) 555-0100 to receive texts again." in (
        page.text
    )
    before = snapshot(parent)
    form = {"first_name": "Avery", "last_name": "Parker", "cell_phone": "+12015550103"}
    response = parent.post(f"/account/students/{avery}/edit", {**form, "allow_texting": "on"})
    assert response.status_code == 400
    assert "replied STOP" in response.text
    assert snapshot(parent) == before


def test_a_blocked_person_cannot_be_turned_on_from_the_portal(parent):
    avery = parent.person_id("Avery")

    async def block():
        async with parent.ctx.db.write() as conn:
            await conn.execute("UPDATE people SET blocked = 1 WHERE id = :id", {"id": avery})

    parent.call(block)
    parent.post(
        f"/account/students/{avery}/edit",
        {"first_name": "Avery", "last_name": "Parker", "cell_phone": "+12015550103"},
    )
    before = snapshot(parent)
    response = parent.post(
        f"/account/students/{avery}/edit",
        {
            "first_name": "Avery",
            "last_name": "Parker",
            "cell_phone": "+12015550103",
            "allow_texting": "on",
        },
    )
    assert response.status_code == 400
    assert snapshot(parent) == before


def test_turning_texting_on_without_a_phone_asks_for_one_and_saves_nothing(parent):
    sam = parent.person_id("Sam")
    before = snapshot(parent)
    response = parent.post(
        f"/account/students/{sam}/edit",
        {"first_name": "Samuel", "last_name": "Parker", "cell_phone": "", "allow_texting": "on"},
    )
    assert response.status_code == 400
    assert "Add a cell phone number" in response.text
    assert snapshot(parent) == before


def test_a_staff_login_gets_403_on_family_pages(portal):
    response = portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    assert response.history[0].headers["location"] == "/staff/"  # the staff console is next
    assert portal.client.cookies.get("portal_session")
    for path in ("/account/settings", "/account/contacts", "/account/students"):
        assert portal.client.get(path).status_code == 403


def test_an_adult_switched_off_by_someone_else_is_told_and_so_is_the_office(parent):
    jordan = parent.person_id("Jordan")
    parent.post(f"/account/contacts/{jordan}/edit", jordan_form(allow_texting="on"))
    parent.deliver()
    parent.mailbox.clear()
    response = parent.post(f"/account/contacts/{jordan}/edit", jordan_form())
    assert response.status_code == 200
    assert sorted(m.to[0] for m in parent.deliver()) == [
        "jordan@demo.example",
        "office@demo.example",
    ]


def test_an_email_already_used_by_another_contact_is_refused(parent):
    before = snapshot(parent)
    response = parent.post(
        f"/account/contacts/{parent.person_id('Jordan')}/edit",
        jordan_form(email=demo.SECOND_PARENT_EMAIL),
    )
    assert response.status_code == 400 and "already uses that email" in response.text
    assert snapshot(parent) == before
