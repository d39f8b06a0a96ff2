"""Reply texts through the real app, signed webhooks, and a fake Twilio over real HTTP."""

from __future__ import annotations

import concurrent.futures
import dataclasses

import pytest
from twilio_steps import JORDAN, ORG_NUMBER, PAT, TOKEN, status_in, text_in, twilio_signature

from portal.consent import commands, rules
from portal.messaging import outbox
from portal.messaging.twilio import TwilioProvider


def statuses(portal) -> dict[str, str]:
    rows = portal.rows(
        "SELECT p.first_name, COALESCE(s.status, 'none') AS status,"
        " COALESCE(ps.active, 0) AS suppressed FROM people p"
        " LEFT JOIN consent_state s ON s.person_id = p.id"
        " LEFT JOIN phone_suppressions ps ON ps.phone = p.cell_phone"
    )
    return {r.first_name: "stopped" if r.suppressed else r.status for r in rows}


def test_the_signature_matches_twilios_published_example():
    from portal.messaging.twilio import signature

    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+14158675309",
        "Digits": "1234",
        "From": "+14158675309",
        "To": "+18005551212",
    }
    assert signature("12345", url, params.items()) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert twilio_signature(url, params, "12345") == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_stop_opts_the_number_out_with_one_confirmation_and_an_email_to_the_office(portal, twilio):
    response = text_in(portal, "Stop.")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert "<Response></Response>" in response.text
    assert statuses(portal)["Pat"] == "stopped"
    mails = portal.deliver()
    [confirmation] = twilio.texts_to(PAT)
    assert "unsubscribed" in confirmation and "START" in confirmation
    [mail] = [m for m in mails if m.to == ["office@demo.example"]]
    assert "•••-•••-0101 replied STOP" in mail.subject and "Pat Parker" in mail.text
    [event] = portal.rows(
        "SELECT channel, evidence, actor_kind FROM consent_events"
        " WHERE person_id = :p ORDER BY id DESC LIMIT 1",
        {"p": portal.person_id("Pat")},
    )
    assert event.channel == "sms_keyword" and event.actor_kind == "handset"
    assert '"body": "Stop."' in event.evidence and "message_sid" in event.evidence


@pytest.mark.parametrize(
    "body, kind",
    [
        ("STOP", "opt_out"),
        ("stop", "opt_out"),
        (" Stop. ", "opt_out"),
        ("STOP ALL", "opt_out"),
        ("stopall", "opt_out"),
        ("Unsubscribe", "opt_out"),
        ("cancel", "opt_out"),
        ("END", "opt_out"),
        ("quit", "opt_out"),
        ("revoke", "opt_out"),
        ("optout", "opt_out"),
        ("opt out", "opt_out"),
        ("Alto", "opt_out"),
        ("parar", "opt_out"),
        ("BASTA", "opt_out"),
        ("cancelar", "opt_out"),
        ("no más", "opt_out"),
        ("please stop texting me", "opt_out"),
        ("take me off your list", "opt_out"),
        ("remove me", "opt_out"),
        ("don't text me", "opt_out"),
        ("See you at practice!", "other"),
        ("yes", "other"),
        ("help", "help"),
        ("INFO", "help"),
        ("ayuda", "help"),
    ],
)
def test_the_keyword_matrix(portal, twilio, body, kind):
    text_in(portal, body)
    [row] = portal.rows("SELECT kind, needs_review FROM inbound_messages")
    assert row.kind == kind
    expected = "stopped" if kind == "opt_out" else "opted_in"
    assert statuses(portal)["Pat"] == expected
    portal.deliver()
    replies = twilio.texts_to(PAT)
    assert len(replies) == (0 if kind == "other" else 1)
    if body in ("please stop texting me", "take me off your list", "remove me", "don't text me"):
        assert row.needs_review == 1


def test_start_and_unstop_lift_a_stop_with_one_confirmation(portal, twilio):
    text_in(portal, "STOP")
    text_in(portal, "unstop")
    assert statuses(portal)["Pat"] == "opted_in"
    portal.deliver()
    assert len(twilio.texts_to(PAT)) == 2
    assert "subscribed to texts again" in twilio.texts_to(PAT)[1]


def test_yes_opts_in_only_when_that_number_has_an_open_request(parent, twilio):
    text_in(parent, "YES", from_number=JORDAN)
    assert statuses(parent)["Jordan"] == "none"
    parent.save_person("Jordan", allow_texting=True)
    assert statuses(parent)["Jordan"] == "pending"
    text_in(parent, "Yes", from_number=JORDAN)
    assert statuses(parent)["Jordan"] == "opted_in"


def test_help_answers_with_the_organization_and_how_to_stop_and_changes_nothing(portal, twilio):
    events = portal.rows("SELECT COUNT(*) AS n FROM consent_events")[0].n
    text_in(portal, "HELP")
    portal.deliver()
    [reply] = twilio.texts_to(PAT)
    assert "Riverside Dance Academy" in reply and "office@demo.example" in reply
    assert "STOP" in reply
    assert portal.rows("SELECT COUNT(*) AS n FROM consent_events")[0].n == events


@pytest.mark.parametrize("tamper", ["unsigned", "changed body", "wrong url", "wrong token"])
def test_a_forged_webhook_is_refused_and_changes_nothing(portal, twilio, tamper):
    params = {"MessageSid": "SM" + "1" * 32, "From": PAT, "To": ORG_NUMBER, "Body": "STOP"}
    url = "http://portal.test/webhooks/twilio/sms"
    signature = twilio_signature(url, params)
    headers = {"X-Twilio-Signature": signature}
    if tamper == "unsigned":
        headers = {}
    elif tamper == "changed body":
        params = {**params, "Body": "START"}
    elif tamper == "wrong url":
        headers = {
            "X-Twilio-Signature": twilio_signature("http://evil.test/webhooks/twilio/sms", params)
        }
    elif tamper == "wrong token":
        headers = {"X-Twilio-Signature": twilio_signature(url, params, "other-token")}
    response = portal.client.post("/webhooks/twilio/sms", data=params, headers=headers)
    assert response.status_code == 403
    assert statuses(portal)["Pat"] == "opted_in"
    assert portal.rows("SELECT COUNT(*) AS n FROM inbound_messages")[0].n == 0


def test_the_same_message_sid_five_times_at_once_makes_one_event_and_one_confirmation(
    portal, twilio
):
    sid = "SM" + "5" * 32
    with concurrent.futures.ThreadPoolExecutor(max_workers=5) as pool:
        answers = list(pool.map(lambda _: text_in(portal, "STOP", sid=sid), range(5)))
    assert [a.status_code for a in answers] == [200] * 5
    assert portal.rows("SELECT COUNT(*) AS n FROM inbound_messages")[0].n == 1
    assert (
        portal.rows(
            "SELECT COUNT(*) AS n FROM consent_events WHERE person_id = :p",
            {"p": portal.person_id("Pat")},
        )[0].n
        == 2
    )  # the demo's opt-in, then this one STOP
    portal.deliver()
    assert len(twilio.texts_to(PAT)) == 1


def test_a_shared_phone_stop_opts_out_everyone_with_that_number(parent, twilio):
    avery = parent.person_id("Avery")
    parent.post(
        f"/account/students/{avery}/edit",
        {
            "first_name": "Avery",
            "last_name": "Parker",
            "cell_phone": "(201) 555-0101",
            "allow_texting": "on",
        },
    )
    assert statuses(parent)["Avery"] == "opted_in"
    text_in(parent, "STOP")
    assert statuses(parent)["Pat"] == "stopped" and statuses(parent)["Avery"] == "stopped"
    mails = parent.deliver()
    [office] = [m for m in mails if "replied STOP" in m.subject]
    assert "Pat Parker" in office.text and "Avery Parker" in office.text
    assert len(twilio.texts_to(PAT)) == 1


def test_a_stop_from_an_unknown_number_covers_a_contact_created_later_with_it(parent, twilio):
    newcomer = "+12015550177"
    text_in(parent, "STOP", from_number=newcomer)
    parent.deliver()
    jordan = parent.person_id("Jordan")
    parent.post(
        f"/account/contacts/{jordan}/edit",
        {
            "first_name": "Jordan",
            "last_name": "Parker",
            "email": "jordan@demo.example",
            "cell_phone": "(201) 555-0177",
        },
    )
    page = parent.client.get("/account/contacts")
    assert "This number replied STOP. Text START to (201) 555-0100" in page.text
    response = parent.post(
        f"/account/contacts/{jordan}/edit",
        {
            "first_name": "Jordan",
            "last_name": "Parker",
            "email": "jordan@demo.example",
            "cell_phone": "(201) 555-0177",
            "allow_texting": "on",
        },
    )
    assert response.status_code == 400 and "Only a text of START" in response.text
    edit = parent.client.get(f"/account/contacts/{jordan}/edit")
    assert 'id="allow_texting"' not in edit.text  # no toggle pretends otherwise


def test_opt_out_type_means_twilio_answered_so_we_do_not(portal, twilio):
    text_in(portal, "STOP", OptOutType="STOP")
    assert statuses(portal)["Pat"] == "stopped"
    portal.deliver()
    assert twilio.texts_to(PAT) == []


def test_a_provider_that_answers_keywords_gets_no_second_reply_but_phrases_still_do(
    app, portal, twilio
):
    app.state.ctx.settings = dataclasses.replace(
        app.state.ctx.settings, provider_answers_keywords=True
    )
    text_in(portal, "STOP")
    portal.deliver()
    assert twilio.texts_to(PAT) == []
    text_in(portal, "please stop texting me", from_number="+12015550111")
    portal.deliver()
    assert len(twilio.texts_to("+12015550111")) == 1


@pytest.fixture
def queue(portal):
    ids = {name: portal.person_id(name) for name in ("Pat", "Avery", "Jordan")}

    def queue_notice(name: str, phone: str) -> None:
        async def work():
            async with portal.ctx.db.write() as conn:
                await outbox.queue_text(
                    conn,
                    portal.ctx,
                    template="notice",
                    to=phone,
                    body="Class is cancelled today.",
                    person_id=ids[name],
                )

        portal.call(work)

    return queue_notice


def outbox_rows(portal):
    return portal.rows(
        "SELECT status, attempts, provider_id, provider_status, last_error,"
        " next_attempt_at FROM outbox WHERE channel = 'sms' ORDER BY id"
    )


def test_may_text_is_asked_again_at_send_time(portal, twilio, queue):
    queue("Pat", PAT)
    queue("Jordan", JORDAN)  # never opted in
    text_in(portal, "STOP", sid="SM" + "9" * 32)  # after queueing, before sending
    portal.deliver()
    assert twilio.texts_to(JORDAN) == []
    assert twilio.texts_to(PAT) == [twilio.texts_to(PAT)[0]]  # only the STOP confirmation
    assert "unsubscribed" in twilio.texts_to(PAT)[0]
    assert [r.status for r in outbox_rows(portal)] == ["blocked", "blocked", "sent"]


def test_a_text_goes_to_twilio_with_auth_and_a_status_callback_and_records_statuses(
    portal, twilio, queue
):
    queue("Avery", "+12015550103")
    portal.deliver()
    [request] = twilio.requests
    assert request["path"] == "/2010-04-01/Accounts/ACtest/Messages.json"
    assert request["auth"] == f"ACtest:{TOKEN}"
    assert request["form"]["From"] == ORG_NUMBER
    assert request["form"]["StatusCallback"] == "http://portal.test/webhooks/twilio/status"
    [row] = outbox_rows(portal)
    assert row.status == "sent" and row.provider_status == "queued"
    for state in ("sent", "delivered"):
        assert status_in(portal, row.provider_id, state).status_code == 204
        assert outbox_rows(portal)[0].provider_status == state


def test_error_21610_on_send_records_a_carrier_opt_out_and_tells_the_office(portal, twilio, queue):
    twilio.answer(400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient"})
    queue("Avery", "+12015550103")
    mails = portal.deliver()
    assert outbox_rows(portal)[0].status == "failed"
    assert statuses(portal)["Avery"] == "stopped"
    [event] = portal.rows("SELECT channel FROM consent_events ORDER BY id DESC LIMIT 1")
    assert event.channel == "carrier"
    assert any("stopped at the carrier" in m.subject for m in mails)


def test_error_21610_in_a_status_callback_records_a_carrier_opt_out(portal, twilio, queue):
    queue("Avery", "+12015550103")
    portal.deliver()
    sid = outbox_rows(portal)[0].provider_id
    assert status_in(portal, sid, "undelivered", ErrorCode="21610").status_code == 204
    assert statuses(portal)["Avery"] == "stopped"
    assert outbox_rows(portal)[0].provider_status == "undelivered"


def test_a_forged_status_callback_is_refused(portal, twilio, queue):
    queue("Avery", "+12015550103")
    portal.deliver()
    sid = outbox_rows(portal)[0].provider_id
    response = portal.client.post(
        "/webhooks/twilio/status",
        data={"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "21610"},
    )
    assert response.status_code == 403
    assert statuses(portal)["Avery"] == "opted_in"


def test_provider_5xx_is_retried_with_backoff_and_4xx_fails(portal, twilio, queue, clock):
    twilio.answer(503, {"message": "busy"})
    queue("Avery", "+12015550103")
    portal.deliver()
    [row] = outbox_rows(portal)
    assert (row.status, row.attempts) == ("pending", 1)
    portal.deliver()  # not due yet: nothing is sent early
    assert len(twilio.requests) == 1
    clock.advance(seconds=15)
    portal.deliver()
    assert outbox_rows(portal)[0].status == "sent"
    twilio.answer(400, {"code": 21211, "message": "Invalid 'To' Phone Number"})
    queue("Pat", PAT)
    portal.deliver()
    assert outbox_rows(portal)[1].status == "failed"
    assert "21211" in outbox_rows(portal)[1].last_error


async def test_a_timeout_is_retried_not_failed(twilio):
    twilio.answer(201, {"sid": "SMslow"}, delay=1.0)
    transport = TwilioProvider(
        api_url=twilio.url,
        account_sid="ACtest",
        auth_token=TOKEN,
        from_number=ORG_NUMBER,
        status_callback="http://x/",
        timeout=0.2,
    )

    class Row:
        id, recipient, body_text = 1, PAT, "hello"

    outcome = (await transport.send_batch([Row()]))[1]
    assert outcome.kind == "retry" and "Timeout" in outcome.error


async def test_texts_of_several_batches_share_one_connection_until_closed(twilio):
    transport = TwilioProvider(
        api_url=twilio.url,
        account_sid="ACtest",
        auth_token=TOKEN,
        from_number=ORG_NUMBER,
        status_callback="http://x/",
    )

    class Row:
        def __init__(self, row_id):
            self.id, self.recipient, self.body_text = row_id, PAT, "hello"

    await transport.send_batch([Row(1), Row(2)])
    await transport.send_batch([Row(3)])
    await transport.close()
    await transport.send_batch([Row(4)])
    await transport.close()
    peers = [request["peer"] for request in twilio.requests]
    assert len(set(peers[:3])) == 1, peers  # one connection while texts flow
    assert peers[3] != peers[0]  # closed when the dispatcher had nothing due


def test_a_stopped_number_cannot_be_opted_in_by_staff_or_the_portal(portal, twilio):
    text_in(portal, "STOP")

    async def staff_opt_in():
        async with portal.ctx.db.write() as conn:
            await commands.set_texting(
                conn,
                portal.ctx,
                person_id=pat,
                allow=True,
                channel=rules.Channel.STAFF,
                actor=rules.Actor(kind="staff", label="office"),
                evidence={"note": "verbal"},
            )

    pat = portal.person_id("Pat")
    with pytest.raises(rules.StopLocked):
        portal.call(staff_opt_in)
    assert statuses(portal)["Pat"] == "stopped"


def test_yes_answers_only_the_open_request_not_everyone_with_the_number(parent, twilio):
    # Avery shares Jordan's number and was turned off; Jordan is asked and answers YES.
    parent.save_person("Avery", allow_texting=False, cell_phone="(201) 555-0102")
    parent.save_person("Jordan", allow_texting=True)
    assert statuses(parent)["Jordan"] == "pending"
    text_in(parent, "YES", from_number=JORDAN)
    assert statuses(parent)["Jordan"] == "opted_in"
    assert statuses(parent)["Avery"] in ("none", "opted_out")


def test_an_opt_out_type_from_twilio_counts_even_for_a_word_outside_our_lists(portal, twilio):
    text_in(portal, "ARRET", OptOutType="STOP")  # a custom keyword configured at Twilio
    assert statuses(portal)["Pat"] == "stopped"
    portal.deliver()
    assert twilio.texts_to(PAT) == []  # Twilio answered it


def test_the_office_email_for_a_carrier_stop_does_not_say_the_person_replied(portal, twilio, queue):
    twilio.answer(400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient"})
    queue("Avery", "+12015550103")
    [mail] = [m for m in portal.deliver() if m.to == ["office@demo.example"]]
    assert mail.subject == "Text messaging opt-out: •••-•••-0103 is stopped at the carrier"
