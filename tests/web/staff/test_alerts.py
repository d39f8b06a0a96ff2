"""Staff Alerts: every opt-out, plain-words stops to review, messages that did not go, the count."""

from __future__ import annotations

import re

import pytest
from outbox_steps import queue_email

from portal.accounts import passwords
from portal.clock import to_db
from portal.db import accounts as account_rows
from portal.messaging import failures, outbox
from portal.people import demo

PASSWORD = "a-staff-password-1"


def make_staff(portal, email: str, staff_role: str) -> str:
    async def work():
        async with portal.ctx.db.write() as conn:
            await account_rows.create(
                conn,
                email=email,
                password_hash=passwords.hash_password(PASSWORD),
                role="staff",
                staff_role=staff_role,
                person_id=None,
                display_name=f"{staff_role.title()} Staff",
                now=to_db(portal.ctx.now()),
            )

    portal.call(work)
    return email


def open_count(page) -> int:
    """The number beside Alerts in the staff navigation (0 when none is shown)."""
    found = re.search(r'aria-label="(\d+) open"', page.text)
    return int(found.group(1)) if found else 0


def text_the_portal(portal, number: str, body: str) -> None:
    portal.post("/dev/phone", {"from": number, "body": body}, token_from="/login")


def consent_snapshot(portal) -> tuple:
    return (
        portal.rows("SELECT * FROM consent_events ORDER BY id"),
        portal.rows("SELECT * FROM consent_state ORDER BY person_id"),
        portal.rows("SELECT * FROM phone_suppressions ORDER BY phone"),
    )


def queue_text(portal, person: str) -> int:
    person_id = portal.person_id(person)
    [row] = portal.rows("SELECT cell_phone FROM people WHERE id = :id", {"id": person_id})

    async def work():
        async with portal.ctx.db.write() as conn:
            return await outbox.queue_text(
                conn,
                portal.ctx,
                template="staff_text",
                to=row.cell_phone,
                body="Rehearsal moved to 5 pm.",
                person_id=person_id,
            )

    return portal.call(work)


def fail(portal, outbox_id: int, error: str) -> None:
    """The dispatcher's record of a final refusal (as mark_final writes it)."""

    async def work():
        async with portal.ctx.db.write() as conn:
            await conn.execute(
                "UPDATE outbox SET status = 'failed', attempts = 1, last_error = :e WHERE id = :id",
                {"e": error, "id": outbox_id},
            )

    portal.call(work)


def outbox_row(portal, outbox_id: int):
    return portal.rows("SELECT * FROM outbox WHERE id = :id", {"id": outbox_id})[0]


def test_every_opt_out_is_listed_in_words_with_a_link_to_the_person(portal):
    avery = portal.person_id("Avery")
    portal.login()
    portal.save_person("Avery", allow_texting=False)
    portal.post("/logout", {}, token_from="/account/settings")
    text_the_portal(portal, "(201) 555-0111", "STOP")
    portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    page = portal.client.get("/staff/alerts")
    assert page.status_code == 200
    assert f'href="/staff/people/{avery}"' in page.text
    assert f'href="/staff/people/{portal.person_id("Morgan")}"' in page.text
    assert "Portal" in page.text and "Reply text" in page.text
    # The number-wide event names the number, masked.
    assert "The number •••-•••-0111 stopped all texts" in page.text
    assert "opted_out" not in page.text and "sms_keyword" not in page.text


def test_each_opt_out_after_a_page_was_seen_raises_the_count_by_what_it_recorded(portal):
    """The count goes on from the last opt-out counted: new ones add exactly theirs."""
    portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    before = open_count(portal.client.get("/staff/people"))
    opt_outs = (
        "SELECT COUNT(*) AS n FROM consent_events WHERE new_status IN ('opted_out', 'suppressed')"
    )
    [recorded_before] = portal.rows(opt_outs)
    text_the_portal(portal, "(201) 555-0111", "STOP")  # the number and Morgan: two events
    [recorded_after] = portal.rows(opt_outs)
    added = recorded_after.n - recorded_before.n
    assert added >= 2
    assert open_count(portal.client.get("/staff/people")) == before + added
    assert open_count(portal.client.get("/staff/alerts")) == before + added  # not twice


def test_marking_an_opt_out_seen_lowers_the_count_in_the_navigation(portal):
    text_the_portal(portal, "(201) 555-0111", "STOP")
    portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    before = open_count(portal.client.get("/staff/people"))
    [event] = portal.rows(
        "SELECT id FROM consent_events WHERE new_status = 'opted_out' AND person_id = :p",
        {"p": portal.person_id("Morgan")},
    )
    seen = portal.post(f"/staff/alerts/opt-outs/{event.id}/seen", {}, token_from="/staff/alerts")
    assert seen.status_code == 200 and "Marked as seen" in seen.text
    assert open_count(portal.client.get("/staff/people")) == before - 1
    assert "Seen by" in portal.client.get("/staff/alerts").text
    # Seeing it twice changes nothing more.
    portal.post(f"/staff/alerts/opt-outs/{event.id}/seen", {}, token_from="/staff/alerts")
    assert open_count(portal.client.get("/staff/people")) == before - 1


def test_mark_all_as_seen_leaves_an_opt_out_that_arrived_meanwhile_unseen(portal):
    text_the_portal(portal, "(201) 555-0111", "STOP")
    portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    page = portal.client.get("/staff/alerts")
    up_to = re.search(r'name="up_to" value="(\d+)"', page.text).group(1)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    text_the_portal(portal, "(201) 555-0103", "STOP")  # Avery, after the page was shown
    portal.client.post("/staff/alerts/opt-outs/seen", data={"up_to": up_to, "csrf_token": token})
    [unseen] = portal.rows(
        "SELECT COUNT(*) AS n FROM consent_events e WHERE e.new_status IN"
        " ('opted_out', 'suppressed') AND NOT EXISTS"
        " (SELECT 1 FROM alert_acknowledgements k WHERE k.event_id = e.id)"
    )
    assert unseen.n == 2  # Avery's number and Avery
    assert open_count(portal.client.get("/staff/people")) == 2


def test_reviewing_a_plain_words_stop_records_the_review_and_changes_no_consent(portal):
    text_the_portal(portal, "(201) 555-0111", "please stop texting me")
    [message] = portal.rows("SELECT id FROM inbound_messages WHERE needs_review = 1")
    portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    page = portal.client.get("/staff/alerts")
    assert "please stop texting me" in page.text
    assert f'href="/staff/people/{portal.person_id("Morgan")}"' in page.text
    before_count = open_count(page)
    consent_before = consent_snapshot(portal)
    done = portal.post(f"/staff/alerts/texts/{message.id}/reviewed", {}, token_from="/staff/alerts")
    assert done.status_code == 200 and "The opt-out stands" in done.text
    assert consent_snapshot(portal) == consent_before
    [row] = portal.rows(
        "SELECT reviewed_at, review_outcome, a.email FROM inbound_messages m"
        " JOIN accounts a ON a.id = m.reviewed_by WHERE m.id = :id",
        {"id": message.id},
    )
    assert row.reviewed_at and row.review_outcome == "opt_out" and row.email == demo.STAFF_EMAIL
    assert open_count(done) == before_count - 1
    assert "please stop texting me" not in done.text
    [action] = portal.rows("SELECT action, subject_id FROM staff_actions")
    assert (action.action, action.subject_id) == ("inbound.reviewed", message.id)


def test_a_failed_email_is_shown_in_words_and_a_retry_delivers_it_with_its_message_id(portal):
    outbox_id = queue_email(portal, to="office@riverside.example")
    fail(portal, outbox_id, "SMTPRecipientRefused: (550, '5.1.1 no such user', 'x')")
    portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    page = portal.client.get("/staff/alerts")
    assert "refused the email for good" in page.text
    before = open_count(page)
    message_id = outbox_row(portal, outbox_id).message_id
    done = portal.post(f"/staff/alerts/messages/{outbox_id}/retry", {}, token_from="/staff/alerts")
    assert done.status_code == 200 and open_count(done) == before - 1
    [mail] = [m for m in portal.deliver() if m.message_id == message_id]
    assert mail.to == ["office@riverside.example"]
    row = outbox_row(portal, outbox_id)
    assert row.status == "sent" and row.message_id == message_id and row.retried_at
    assert portal.rows("SELECT action FROM staff_actions")[0].action == "message.retried"


def test_a_message_is_stuck_only_an_hour_after_it_was_queued_or_retried(portal, clock):
    outbox_id = queue_email(portal, to="office@riverside.example")
    portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    assert "Every email and text went out" in portal.client.get("/staff/alerts").text
    clock.advance(minutes=61)
    page = portal.client.get("/staff/alerts")
    assert "Stuck" in page.text and "Not tried yet" in page.text
    before = open_count(page)
    done = portal.post(f"/staff/alerts/messages/{outbox_id}/retry", {}, token_from="/staff/alerts")
    assert open_count(done) == before - 1
    clock.advance(minutes=61)  # retried, but still not delivered an hour later: stuck again
    assert open_count(portal.client.get("/staff/alerts")) == before


def test_a_retried_text_to_someone_who_replied_stop_is_still_refused_at_send_time(portal):
    outbox_id = queue_text(portal, "Morgan")
    fail(portal, outbox_id, "Twilio 400 21211: Invalid 'To' Phone Number")
    text_the_portal(portal, "(201) 555-0111", "STOP")
    portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    assert "The phone number is not valid." in portal.client.get("/staff/alerts").text
    portal.post(f"/staff/alerts/messages/{outbox_id}/retry", {}, token_from="/staff/alerts")
    portal.deliver()
    assert outbox_row(portal, outbox_id).status == "blocked"
    thread = portal.app.state.fake_phone.threads().get("+12015550111", [])
    assert not any("Rehearsal" in text.body for text in thread)


def test_a_message_that_is_not_in_trouble_is_not_retried(portal):
    outbox_id = queue_email(portal, to="office@riverside.example")
    portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    done = portal.post(f"/staff/alerts/messages/{outbox_id}/retry", {}, token_from="/staff/alerts")
    assert "Nothing to retry" in done.text
    assert outbox_row(portal, outbox_id).retried_at is None


def test_a_viewer_sees_the_alerts_and_changes_nothing(portal):
    text_the_portal(portal, "(201) 555-0111", "please stop texting me")
    outbox_id = queue_email(portal, to="office@riverside.example")
    fail(portal, outbox_id, "SMTPRecipientRefused: (550, 'no', 'x')")
    portal.login(make_staff(portal, "viewer@staff.example", "viewer"), PASSWORD)
    page = portal.client.get("/staff/alerts")
    assert page.status_code == 200 and open_count(page) > 0
    assert "<button" not in page.text.split("</nav>")[1].replace("Log out", "")
    [event] = portal.rows("SELECT id FROM consent_events WHERE new_status = 'suppressed'")
    [message] = portal.rows("SELECT id FROM inbound_messages")
    for path, data in (
        (f"/staff/alerts/opt-outs/{event.id}/seen", {}),
        ("/staff/alerts/opt-outs/seen", {"up_to": str(event.id)}),
        (f"/staff/alerts/texts/{message.id}/reviewed", {}),
        (f"/staff/alerts/messages/{outbox_id}/retry", {}),
    ):
        assert portal.post(path, data, token_from="/staff/alerts").status_code == 403, path
    assert portal.rows("SELECT COUNT(*) AS n FROM alert_acknowledgements")[0].n == 0
    assert portal.rows("SELECT reviewed_at FROM inbound_messages")[0].reviewed_at is None
    assert outbox_row(portal, outbox_id).status == "failed"


def test_a_texting_login_may_act_on_alerts(portal):
    text_the_portal(portal, "(201) 555-0111", "STOP")
    portal.login(make_staff(portal, "texting@staff.example", "texting"), PASSWORD)
    [event] = portal.rows("SELECT id FROM consent_events WHERE new_status = 'suppressed'")
    done = portal.post(f"/staff/alerts/opt-outs/{event.id}/seen", {}, token_from="/staff/alerts")
    assert done.status_code == 200 and "Marked as seen" in done.text


def test_a_parent_reaches_neither_the_alerts_nor_their_actions(parent):
    assert parent.client.get("/staff/alerts").status_code == 403
    token = parent.csrf("/account/settings")
    for path in ("/staff/alerts/opt-outs/1/seen", "/staff/alerts/messages/1/retry"):
        assert parent.client.post(path, data={"csrf_token": token}).status_code == 403


ALERT_COUNT = (
    "SELECT COUNT(*) FROM consent_events e WHERE e.new_status IN ('opted_out', 'suppressed')"
)


async def _plan(db) -> str:
    async with db.read() as conn:
        if conn.dialect == "sqlite":
            rows = await conn.fetch_all("EXPLAIN QUERY PLAN " + ALERT_COUNT)
            return " ".join(row.detail for row in rows)
        # A demo-sized table is cheaper to scan than to index: ask for the plan PostgreSQL
        # chooses once scanning is priced out, as it is on a district's ledger.
        await conn.execute("SET enable_seqscan = off")
        try:
            rows = await conn.fetch_all("EXPLAIN " + ALERT_COUNT)
        finally:
            await conn.execute("RESET enable_seqscan")
        return " ".join(row["QUERY PLAN"] for row in rows)


def test_the_alert_count_query_reads_only_the_partial_indexes_of_the_ledger(portal):
    assert "consent_events_opt_outs" in portal.call(_plan, portal.ctx.db)


@pytest.mark.parametrize(
    ("channel", "error", "reason"),
    [
        ("sms", "Twilio 400 21211: Invalid 'To' Phone Number", "invalid_number"),
        ("sms", "Twilio 400 21610: Attempt to send to unsubscribed recipient", "carrier_opt_out"),
        ("sms", "Twilio error 30003", "unreachable"),
        ("sms", "Twilio error 30005", "unknown_number"),
        ("sms", "Twilio error 30006", "landline"),
        ("sms", "Twilio error 39999", "provider_refused"),
        ("sms", "ConnectError: [Errno 111] Connection refused", "connection_refused"),
        ("sms", "ReadTimeout: timed out", "timeout"),
        ("email", "SMTPRecipientRefused: (550, '5.1.1 no such user', 'x@y')", "mail_refused"),
        ("email", "SMTPResponseException: (451, 'try later')", "mail_deferred"),
        ("email", "SMTPConnectError: Error connecting on port 1", "connection_refused"),
        ("email", "SMTPConnectTimeoutError: Timed out connecting", "timeout"),
        ("email", "SMTPServerDisconnected: Unexpected EOF received", "connection_lost"),
        (
            "email",
            "SMTPException: SMTP STARTTLS extension not supported by server",
            "tls_unavailable",
        ),
        ("email", "gave up", "unknown"),
        ("email", "", "no_error_yet"),
    ],
)
def test_stored_delivery_errors_are_read_as_reasons_staff_see_in_words(channel, error, reason):
    assert failures.reason(channel, error) == reason


def test_opt_outs_come_newest_first_fifty_to_a_page(portal):
    for n in range(52):
        text_the_portal(portal, f"(201) 555-{2000 + n}", "STOP")
    portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    first = portal.client.get("/staff/alerts")
    assert first.text.count("stopped all texts") == 50
    assert first.text.index("•••-•••-2051") < first.text.index("•••-•••-2050")
    older = re.search(r'href="(/staff/alerts\?before=\d+)"', first.text).group(1)
    second = portal.client.get(older)
    assert second.text.count("stopped all texts") == 2 and "•••-•••-2000" in second.text
    assert "Older opt-outs" not in second.text and "Mark all as seen" not in second.text
    assert portal.client.get("/staff/alerts?before=abc").status_code == 404
