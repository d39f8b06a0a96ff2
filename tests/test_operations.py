"""Faults, operations and newcomer findings of issue 8 (items 13-18 and 20-24), each through the
real app, the real CLI, a real SQLite file, a real SMTP server and a fake Twilio over HTTP."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import hashlib
import hmac
import logging
import os
import re
import secrets
import subprocess
import sys
import time

import aiosmtplib
import httpx
import pytest
import sqlite_faults
from aiosmtpd.controller import Controller
from conftest import PUBLIC_URL, PortalDriver
from starlette.testclient import TestClient
from twilio_steps import with_twilio

from portal.app import create_app
from portal.cli import main
from portal.consent.rules import Actor, Channel, Status
from portal.db import organization as org_rows
from portal.db import people as people_rows
from portal.messaging import outbox
from portal.messaging.mailcatcher import MailCatcher, free_port
from portal.people import demo
from portal.settings import SETTINGS, Settings

TOKEN = "test-twilio-auth-token"
ORG_NUMBER = "+12015550100"
PAT = "+12015550101"
JORDAN = "+12015550102"
NEWCOMER = "+12015550177"  # a number nobody in the portal has
CONSENT_LINK_RE = re.compile(r"http://portal\.test(/text-consent/[A-Za-z0-9._\-]+)")
INVITE_RE = re.compile(r"http://portal\.test(/invite/[A-Za-z0-9._\-]+)")


@pytest.fixture
def texting_settings(settings, twilio):
    return with_twilio(settings, twilio)


@pytest.fixture
def texting(texting_settings, clock, mailbox):
    """The demo portal with Twilio configured (a fake Twilio on loopback)."""
    app = create_app(texting_settings, clock=clock, start_dispatcher=False)
    with TestClient(app, base_url=PUBLIC_URL) as client:
        driver = PortalDriver(client, app, mailbox)
        driver.call(demo.load, app.state.ctx)
        yield driver


def text_in(portal, body: str, from_number: str = PAT, status: int = 200):
    params = {
        "MessageSid": "SM" + secrets.token_hex(16),
        "AccountSid": "ACtest",
        "From": from_number,
        "To": ORG_NUMBER,
        "Body": body,
    }
    data = "http://portal.test/webhooks/twilio/sms" + "".join(
        key + params[key] for key in sorted(params)
    )
    signature = base64.b64encode(
        hmac.new(TOKEN.encode(), data.encode(), hashlib.sha1).digest()
    ).decode()
    response = portal.client.post(
        "/webhooks/twilio/sms", data=params, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == status
    return response


def is_stopped(portal, phone: str) -> bool:
    rows = portal.rows("SELECT active FROM phone_suppressions WHERE phone = :p", {"p": phone})
    return bool(rows and rows[0].active)


# 16. A link is good through its whole lifetime and refused one second after.


def test_a_consent_link_is_answered_at_exactly_its_lifetime_and_refused_a_second_later(
    parent, clock
):
    parent.save_person("Jordan", allow_texting=True)
    [request] = [m for m in parent.deliver() if m.to == ["jordan@demo.example"]]
    path = CONSENT_LINK_RE.search(request.text).group(1)
    parent.client.cookies.clear()
    lifetime = parent.ctx.consent_links.lifetime

    clock.advance(seconds=lifetime.total_seconds() + 1)
    assert "This link has expired" in parent.client.get(path).text
    clock.advance(seconds=-1)  # back to exactly the lifetime: the link is still good
    assert "Yes, Send Me Text Messages" in parent.client.get(path).text
    answered = parent.post(path, {"answer": "yes"}, token_from="/login")
    assert "You will receive text messages" in answered.text


# 21. "again" only for a number that had opted out before.


def test_a_first_start_is_not_told_it_is_subscribed_again(texting, twilio):
    text_in(texting, "START", from_number=NEWCOMER)
    text_in(texting, "START")  # Pat's number, never stopped
    texting.deliver()
    [first] = twilio.texts_to(NEWCOMER)
    [pat] = twilio.texts_to(PAT)
    for reply in (first, pat):
        assert "You are subscribed to texts about" in reply and "again" not in reply


def test_a_first_yes_to_an_open_request_is_not_told_it_is_subscribed_again(texting, twilio):
    assert texting.login().status_code == 200
    texting.save_person("Jordan", allow_texting=True)
    text_in(texting, "YES", from_number=JORDAN)
    texting.deliver()
    [reply] = twilio.texts_to(JORDAN)
    assert "You are subscribed to texts about" in reply and "again" not in reply


def test_start_after_a_stop_is_told_it_is_subscribed_again(texting, twilio):
    text_in(texting, "STOP")
    text_in(texting, "START")
    texting.deliver()
    assert "You are subscribed to texts again" in twilio.texts_to(PAT)[-1]


# 22. The office email's subject says what happened and to whom.


def test_the_office_subject_names_the_people_of_a_number_that_replied_stop(texting):
    texting.deliver()
    text_in(texting, "STOP")
    [office] = [m for m in texting.deliver() if m.to == ["office@demo.example"]]
    assert office.subject == "Text messaging opt-out: •••-•••-0101 replied STOP (Pat Parker)"


def test_the_office_subject_names_everyone_who_shares_the_number(texting):
    assert texting.login().status_code == 200
    texting.save_person("Avery", allow_texting=True, cell_phone="(201) 555-0101")
    texting.deliver()
    text_in(texting, "STOP")
    [office] = [m for m in texting.deliver() if m.to == ["office@demo.example"]]
    assert office.subject == (
        "Text messaging opt-out: •••-•••-0101 replied STOP (Pat Parker and Avery Parker)"
    )


def test_the_office_subject_of_a_stop_in_plain_words_does_not_say_replied_stop(texting):
    texting.deliver()
    text_in(texting, "please don't text me anymore")
    [office] = [m for m in texting.deliver() if m.to == ["office@demo.example"]]
    assert "replied STOP" not in office.subject
    assert office.subject == (
        "Text messaging opt-out: •••-•••-0101 asked to stop in plain words (Pat Parker):"
        " please review"
    )


# 23. "(you)" marks the person who is logged in.


def test_an_invited_contact_sees_you_beside_themselves_not_the_account_holder(parent):
    jordan = parent.person_id("Jordan")
    parent.post(f"/account/contacts/{jordan}/invite", {}, token_from="/account/contacts")
    [mail] = parent.deliver()
    path = INVITE_RE.search(mail.text).group(1)
    parent.client.cookies.clear()
    parent.post(path, {"password": "jordans-new-pass", "password_again": "jordans-new-pass"})
    assert parent.login("jordan@demo.example", "jordans-new-pass").status_code == 200

    page = parent.client.get("/account/contacts").text
    assert 'aria-label="Edit Jordan Parker">Edit (you)</a>' in page
    assert 'aria-label="Edit Pat Parker">Edit</a>' in page


def test_the_account_holder_still_sees_you_beside_themselves(parent):
    page = parent.client.get("/account/contacts").text
    assert 'aria-label="Edit Pat Parker">Edit (you)</a>' in page
    assert 'aria-label="Edit Jordan Parker">Edit</a>' in page


# 24. A stop that complains of the cost gets no confirmation text.


@pytest.mark.parametrize(
    "body",
    [
        "Stop texting me, it costs me money",
        "STOP these texts cost me",
        "stop, I get charged for every message",
        "Unsubscribe, my carrier charges a fee",
        "STOP I have to pay for texts",
        "No me envien mensajes, me cobran cada uno",
        "No me manden mensajes, me cuesta dinero",
    ],
)
def test_a_stop_that_mentions_cost_opts_out_and_tells_the_office_but_sends_no_text(
    texting, twilio, body
):
    texting.deliver()
    text_in(texting, body)
    assert is_stopped(texting, PAT)
    mails = texting.deliver()
    assert [m for m in mails if m.to == ["office@demo.example"]]
    assert twilio.texts_to(PAT) == []


def test_a_plain_stop_still_gets_its_one_confirmation(texting, twilio):
    text_in(texting, "Stop texting me please")
    texting.deliver()
    [confirmation] = twilio.texts_to(PAT)
    assert "unsubscribed" in confirmation


# 18. The demo prints every login; starting logs no alarm; every header names the organization.


def test_portal_demo_prints_all_three_demo_logins(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    for email, password in (
        (demo.PARENT_EMAIL, demo.PARENT_PASSWORD),
        (demo.SECOND_PARENT_EMAIL, demo.SECOND_PARENT_PASSWORD),
        (demo.STAFF_EMAIL, demo.STAFF_PASSWORD),
    ):
        assert f"{email} / {password}" in out


def test_the_dev_mail_catcher_starts_and_receives_without_logging_a_lost_connection(caplog):
    async def send(catcher):
        await aiosmtplib.send(
            "Subject: hello\r\n\r\nbody",
            sender="portal@portal.test",
            recipients=["pat@demo.example"],
            hostname=catcher.host,
            port=catcher.port,
        )

    with caplog.at_level(logging.INFO):
        catcher = MailCatcher().start()
        try:
            asyncio.run(send(catcher))
        finally:
            catcher.stop()
    assert [m.subject for m in catcher.messages()] == ["hello"]
    assert not [r for r in caplog.records if "Connection lost" in r.getMessage()]


def brand(page) -> str:
    return re.search(r'<a class="brand" href="/">([^<]*)</a>', page.text).group(1)


def test_every_page_header_names_the_organization(portal):
    anonymous = [
        portal.client.get("/login"),
        portal.client.get("/forgot-password"),
        portal.client.get("/no-such-page"),
        portal.client.get("/static/no-such-file.css"),
        portal.client.post("/login", data={"email": "x", "password": "y"}),  # no CSRF: 403
    ]
    assert [page.status_code for page in anonymous] == [200, 200, 404, 404, 403]
    assert portal.login().status_code == 200
    logged_in = [portal.client.get("/account/settings"), portal.client.get("/account/contacts")]
    for page in anonymous + logged_in:
        assert brand(page) == "Riverside Dance Academy"
        assert "Consent Portal" not in page.text


def test_a_renamed_organization_shows_on_every_page_without_a_restart(portal):
    async def rename(ctx):
        async with ctx.db.write() as conn:  # as staff would, maybe on another instance
            await org_rows.update(
                conn,
                name="Riverside Dance Studio",
                email="office@demo.example",
                phone=ORG_NUMBER,
                now="2026-01-05T15:00:00.000000+00:00",
            )

    portal.call(rename, portal.ctx)
    assert portal.login().status_code == 200
    assert brand(portal.client.get("/account/settings")) == "Riverside Dance Studio"
    portal.client.cookies.clear()
    assert brand(portal.client.get("/login")) == "Riverside Dance Studio"


# 20. An email that invites a reply says where the reply goes: the Organization Email.


def test_an_email_queued_with_a_reply_to_is_sent_with_that_reply_to_header(portal):
    jordan_id = portal.person_id("Jordan")

    async def queue(ctx):
        async with ctx.db.write() as conn:
            organization = await org_rows.get(conn)
            jordan = await people_rows.by_id(conn, jordan_id)
            await outbox.queue_email(
                conn,
                ctx,
                template="changed_by_other",
                to=jordan.email,
                person_id=jordan.id,
                reply_to=organization.email,
                organization=organization,
                person=jordan,
                actor=Actor(kind="contact", label="Pat Parker <parent@demo.example>"),
                channel=Channel.PORTAL,
                new_status=Status.OPTED_OUT,
                when=ctx.now(),
            )

    portal.deliver()
    portal.call(queue, portal.ctx)
    [row] = portal.rows("SELECT reply_to FROM outbox WHERE template = 'changed_by_other'")
    assert row.reply_to == "office@demo.example"
    [mail] = portal.deliver()
    assert mail.to == ["jordan@demo.example"] and "reply to this email" in mail.text
    assert mail.reply_to == "office@demo.example"


def test_other_emails_carry_no_reply_to(parent):
    parent.save_person("Jordan", allow_texting=True)
    mails = parent.deliver()
    assert mails and all(m.reply_to == "" for m in mails)


def test_an_adult_told_their_setting_was_changed_can_reply_to_the_office(parent):
    parent.save_person("Jordan", allow_texting=True)
    [request] = [m for m in parent.deliver() if m.to == ["jordan@demo.example"]]
    path = CONSENT_LINK_RE.search(request.text).group(1)
    cookies = dict(parent.client.cookies)
    parent.client.cookies.clear()
    assert "You will receive" in parent.post(path, {"answer": "yes"}, token_from="/login").text
    parent.deliver()
    parent.client.cookies.update(cookies)

    parent.save_person("Jordan", allow_texting=False)
    [told] = [m for m in parent.deliver() if m.to == ["jordan@demo.example"]]
    assert "reply to this email" in told.text
    assert told.reply_to == "office@demo.example"


# 15. /healthz says "degraded" while mail or texts are stuck.


class RefusingHandler:
    """A real SMTP server that refuses every message for good."""

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        return "554 5.7.1 Message rejected"


@contextlib.contextmanager
def portal_mailing_to(port: int, settings, clock, mailbox):
    app = create_app(
        dataclasses.replace(settings, smtp_port=port), clock=clock, start_dispatcher=False
    )
    with TestClient(app, base_url=PUBLIC_URL) as client:
        driver = PortalDriver(client, app, mailbox)
        driver.call(demo.load, app.state.ctx)
        assert driver.login().status_code == 200
        yield driver


def queue_an_office_email(driver):
    """The parent turns a student's texts off; the office is owed an email."""
    driver.save_person("Avery", allow_texting=False)
    assert driver.rows("SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending'")[0].n == 1


def test_healthz_says_ok_when_mail_flows(parent):
    queue_an_office_email(parent)
    assert parent.client.get("/healthz").json() == {"status": "ok", "outbox_pending": 1}
    parent.deliver()
    response = parent.client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "outbox_pending": 0}


def test_healthz_says_degraded_while_mail_is_stuck_for_15_minutes(settings, clock, mailbox):
    with portal_mailing_to(free_port(), settings, clock, mailbox) as driver:  # nobody listens
        queue_an_office_email(driver)
        [row] = driver.rows("SELECT created_at FROM outbox")
        driver.deliver()
        clock.advance(minutes=14, seconds=59)
        driver.deliver()
        assert driver.client.get("/healthz").json()["status"] == "ok"  # retrying, not stuck

        clock.advance(seconds=1)
        response = driver.client.get("/healthz")
        assert response.status_code == 200  # a mail outage must not pull the web instance
        assert response.json() == {
            "status": "degraded",
            "outbox_pending": 1,
            "outbox_stuck_since": row.created_at,
            "outbox_failed_last_24h": 0,
        }


def test_healthz_says_degraded_for_a_day_after_a_message_failed_for_good(settings, clock, mailbox):
    port = free_port()
    server = Controller(RefusingHandler(), hostname="127.0.0.1", port=port)
    server.start()
    try:
        with portal_mailing_to(port, settings, clock, mailbox) as driver:
            queue_an_office_email(driver)
            driver.deliver()
            assert driver.rows("SELECT status FROM outbox")[0].status == "failed"
            response = driver.client.get("/healthz")
            assert response.status_code == 200
            assert response.json()["status"] == "degraded"
            assert response.json()["outbox_failed_last_24h"] == 1

            clock.advance(hours=24, seconds=1)
            assert driver.client.get("/healthz").json() == {"status": "ok", "outbox_pending": 0}
    finally:
        server.stop()


# 13. A database that cannot take writes: a clear 503, nothing changed, /healthz says so.


@pytest.fixture
def read_only(monkeypatch):
    """Real SQLite connections that SQLite itself makes read-only (PRAGMA query_only)."""
    return sqlite_faults.install(
        monkeypatch, fault="PRAGMA query_only=1", healthy="PRAGMA query_only=0"
    )


@pytest.fixture
def app(read_only, settings, clock):
    return create_app(settings, clock=clock, start_dispatcher=False)


def snapshot(driver) -> list:
    return [
        driver.rows("SELECT * FROM consent_state ORDER BY person_id"),
        driver.rows("SELECT * FROM consent_events ORDER BY id"),
        driver.rows("SELECT * FROM outbox ORDER BY id"),
        driver.rows("SELECT * FROM sessions ORDER BY id_hash"),
    ]


@pytest.mark.sqlite
def test_a_change_on_a_read_only_database_gets_a_503_page_and_changes_nothing(parent, read_only):
    before = snapshot(parent)
    read_only.on = True
    response = parent.save_person("Avery", allow_texting=False)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "120"
    assert "We cannot save changes right now" in response.text
    assert "Nothing was changed" in response.text and brand(response) == "Riverside Dance Academy"
    assert "Texts allowed" in parent.client.get("/account/students").text  # reads still work
    assert snapshot(parent) == before


@pytest.mark.sqlite
def test_healthz_says_503_while_the_database_cannot_be_written(portal, read_only):
    assert portal.client.get("/healthz").json()["status"] == "ok"
    read_only.on = True
    response = portal.client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "error": "OperationalError"}
    read_only.on = False
    assert portal.client.get("/healthz").status_code == 200


@pytest.mark.sqlite
def test_a_stop_on_a_read_only_database_is_kept_in_the_spool_and_applied_later(read_only, texting):
    read_only.on = True
    text_in(texting, "STOP", status=200)  # not an error for Twilio, which retries only once
    spool = texting.app.state.inbound_spool
    assert len(spool.waiting()) == 1
    assert texting.call(spool.drain, texting.ctx) == 0  # still read-only: kept, nothing half-done
    read_only.on = False
    assert texting.call(spool.drain, texting.ctx) == 1
    assert is_stopped(texting, PAT)


# 14. A failed start ends the process with a non-zero status, so a supervisor notices.


def portal_env(tmp_path, **settings: str) -> dict[str, str]:
    """The environment of a `portal` process: ours, without any portal setting from outside."""
    env = {k: v for k, v in os.environ.items() if k not in {s.name for s in SETTINGS}}
    return env | {"DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}"} | settings


def test_portal_serve_on_an_unmigrated_production_database_exits_non_zero(tmp_path, smtp_server):
    env = portal_env(
        tmp_path,
        ENVIRONMENT="production",
        SECRET_KEY="a-production-secret-key-of-enough-length-0123",
        SMTP_HOST=smtp_server.host,
        SMTP_PORT=str(smtp_server.port),
        SMTP_TLS="none",
    )
    # The old process stayed alive with no listener: the timeout here is only a safety net.
    finished = subprocess.run(  # noqa: S603 (our own command, no shell)
        [sys.executable, "-m", "portal.cli", "serve", "--port", str(free_port())],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode != 0
    assert "run `portal migrate` first" in finished.stderr


# 17. In development, emailed links follow the address actually served.


def test_in_development_emailed_links_follow_the_port_served(tmp_path, monkeypatch):
    for setting in SETTINGS:
        monkeypatch.delenv(setting.name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'portal.sqlite3'}")
    assert main(["demo"]) == 0
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(  # noqa: S603 (our own command, no shell)
        [sys.executable, "-m", "portal.cli", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=portal_env(tmp_path),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as browser:
            wait_until(lambda: _answers(browser, "/healthz"))
            form = browser.get("/forgot-password")
            token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
            browser.post("/forgot-password", data={"email": demo.PARENT_EMAIL, "csrf_token": token})
            wait_until(lambda: "/reset-password/" in browser.get("/dev/mailbox").text)
            mailbox = browser.get("/dev/mailbox").text
        assert f"http://127.0.0.1:{port}/reset-password/" in mailbox
        assert "http://127.0.0.1:8000" not in mailbox
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    output = (tmp_path / "serve.log").read_text()
    assert f"Portal at http://127.0.0.1:{port}/" in output
    assert "Connection lost" not in output  # item 18: no alarm at start


def test_production_and_a_public_url_set_by_hand_are_kept_whatever_the_port():
    production = Settings.from_mapping(
        {
            "ENVIRONMENT": "production",
            "DATABASE_URL": "sqlite:///portal.sqlite3",
            "SECRET_KEY": "a-production-secret-key-of-enough-length-0123",
            "SMTP_HOST": "smtp.example",
        }
    )
    everywhere = "0.0.0.0"  # noqa: S104 (only a string here: nothing is bound)
    assert production.served_at(everywhere, 8123).public_url == "http://127.0.0.1:8000"
    by_hand = Settings.from_mapping({"PUBLIC_URL": "https://portal.example"})
    assert by_hand.served_at("127.0.0.1", 8123).public_url == "https://portal.example"
    development = Settings.from_mapping({})
    assert development.served_at(everywhere, 8123).public_url == "http://127.0.0.1:8123"
    assert development.served_at("::", 8123).public_url == "http://[::1]:8123"


def _answers(browser, path: str) -> bool:
    try:
        return browser.get(path).status_code == 200
    except httpx.TransportError:
        return False


def wait_until(condition, attempts: int = 300) -> None:
    """Poll a real process until it is ready (readiness, not a timing assertion)."""
    for _ in range(attempts):
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("the portal process never got there")
