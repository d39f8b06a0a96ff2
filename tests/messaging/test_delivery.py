"""Delivery of texts: the pace per sender number, a Messaging Service, a 429's Retry-After,
status callbacks, and why a text failed in words; through the real app and a fake Twilio over
real HTTP, with the injected clock."""

from __future__ import annotations

import dataclasses
import re

import httpx
import pytest
from staff_steps import login_as, wait_for_queueing
from twilio_steps import JORDAN, ORG_NUMBER, PAT, status_in, text_in, with_twilio

from portal.messaging import mass_texts, outbox

AVERY = "+12015550103"
TOKEN_RE = re.compile(r'name="send_token" value="([^"]+)"')


@pytest.fixture
def service_sid() -> str:
    return ""


@pytest.fixture
def settings(settings, twilio, service_sid):
    return dataclasses.replace(
        with_twilio(settings, twilio), sms_per_second=1, twilio_messaging_service_sid=service_sid
    )


def queue(portal, name: str, phone: str) -> None:
    person_id = portal.person_id(name)

    async def work():
        async with portal.ctx.db.write() as conn:
            await outbox.queue_text(
                conn,
                portal.ctx,
                template="notice",
                to=phone,
                body="Class is on.",
                person_id=person_id,
            )

    portal.call(work)


def texts(portal) -> list:
    return portal.rows(
        "SELECT recipient, status, attempts, provider_id, last_error FROM outbox"
        " WHERE channel = 'sms' ORDER BY id"
    )


def deliver_everything(portal, clock) -> None:
    """Deliver, a second of the clock at a time, until no text is waiting."""
    for _ in range(20):
        portal.deliver()
        if not [t for t in texts(portal) if t.status == "pending"]:
            return
        clock.advance(seconds=1)
    raise AssertionError("texts still waiting")


def mass_text(portal, body: str = "Hello {first_name}") -> int:
    """Preview, then Send, a text to everyone the People list shows."""
    token = portal.csrf("/staff/messages")
    page = portal.client.post("/staff/messages/preview", data={"body": body, "csrf_token": token})
    send_token = TOKEN_RE.search(page.text).group(1)
    sent = portal.client.post(
        "/staff/messages/send",
        data={"body": body, "csrf_token": token, "send_token": send_token},
    )
    assert sent.status_code == 200
    wait_for_queueing(portal)
    return int(sent.url.path.rsplit("/", 1)[1])


def test_texts_go_out_one_a_second_per_sender_and_a_keyword_reply_goes_first(portal, twilio, clock):
    queue(portal, "Pat", PAT)
    queue(portal, "Avery", AVERY)
    text_in(portal, "HELP", from_number=JORDAN)  # queued last, needs no consent
    portal.deliver()
    assert [r["form"]["To"] for r in twilio.requests] == [JORDAN]
    portal.deliver()  # the same second of the clock: nothing more
    assert len(twilio.requests) == 1
    clock.advance(seconds=1)
    portal.deliver()
    clock.advance(seconds=1)
    portal.deliver()
    assert [r["form"]["To"] for r in twilio.requests] == [JORDAN, PAT, AVERY]
    assert all(r["form"]["From"] == ORG_NUMBER for r in twilio.requests)


@pytest.mark.parametrize("service_sid", ["MG0123456789abcdef0123456789abcdef"])
def test_with_a_messaging_service_texts_name_it_instead_of_a_from_number(portal, twilio):
    queue(portal, "Pat", PAT)
    portal.deliver()
    [request] = twilio.requests
    assert request["form"]["MessagingServiceSid"] == "MG0123456789abcdef0123456789abcdef"
    assert "From" not in request["form"]


def test_a_429_waits_for_its_retry_after_and_is_not_counted_as_an_attempt(portal, twilio, clock):
    twilio.answer(
        429, {"code": 20429, "message": "Too Many Requests"}, headers={"Retry-After": "30"}
    )
    queue(portal, "Pat", PAT)
    queue(portal, "Avery", AVERY)
    portal.deliver()
    first = texts(portal)[0]
    assert (first.status, first.attempts) == ("pending", 0) and "429" in first.last_error
    clock.advance(seconds=29)
    portal.deliver()  # no text goes to Twilio until the Retry-After has passed
    assert len(twilio.requests) == 1
    clock.advance(seconds=1)
    deliver_everything(portal, clock)
    assert [(t.status, t.attempts) for t in texts(portal)] == [("sent", 1), ("sent", 1)]
    # Avery's text was due first; Pat's waited for the Retry-After.
    assert [r["form"]["To"] for r in twilio.requests] == [PAT, AVERY, PAT]


def test_a_5xx_counts_as_an_attempt_and_is_tried_again_after_its_backoff(portal, twilio, clock):
    twilio.answer(502, {"message": "Bad Gateway"})
    queue(portal, "Pat", PAT)
    portal.deliver()
    assert [(t.status, t.attempts) for t in texts(portal)] == [("pending", 1)]
    clock.advance(seconds=15)
    portal.deliver()
    assert [(t.status, t.attempts) for t in texts(portal)] == [("sent", 2)]


def test_a_callback_for_an_unknown_message_answers_200_and_changes_nothing(portal, twilio):
    events = len(portal.rows("SELECT id FROM consent_events"))
    response = status_in(portal, "SM" + "f" * 32, "undelivered", ErrorCode="21610", To=PAT)
    assert response.status_code == 200 and "nothing changed" in response.text
    assert len(portal.rows("SELECT id FROM consent_events")) == events
    assert portal.rows("SELECT phone FROM phone_suppressions") == []


def test_a_failed_text_says_why_in_words_on_the_persons_page(portal, twilio):
    queue(portal, "Avery", AVERY)
    portal.deliver()
    [sent] = texts(portal)
    assert status_in(portal, sent.provider_id, "undelivered", ErrorCode="30003").status_code == 204
    login_as(portal, "viewer")
    page = portal.client.get(f"/staff/people/{portal.person_id('Avery')}")
    assert "Failed: The phone could not be reached (switched off or out of coverage)." in page.text


def test_the_mass_text_report_counts_delivered_and_failed_with_the_reasons(portal, twilio, clock):
    login_as(portal, "texting")
    mass_text_id = mass_text(portal)
    deliver_everything(portal, clock)
    sids = {t.recipient: t.provider_id for t in texts(portal)}
    status_in(portal, sids[PAT], "delivered")
    status_in(portal, sids[AVERY], "undelivered", ErrorCode="30007")
    status_in(portal, sids["+12015550111"], "failed", ErrorCode="21610")
    page = portal.client.get(f"/staff/messages/{mass_text_id}").text
    assert re.search(r"Delivered to the phone</dt><dd>1<", page)
    assert re.search(r"<dt>Failed</dt><dd>2<", page)
    assert "The phone company filtered the text as unwanted." in page
    assert "The person opted out with their phone company" in page


def test_a_mass_text_is_queued_in_the_background_and_its_page_shows_progress(portal):
    login_as(portal, "texting")
    [staff] = portal.rows("SELECT id FROM accounts WHERE email = 'texting@staff.example'")
    recipients = [
        mass_texts.Recipient(person_id=portal.person_id(name), phone=phone, first_name=name)
        for name, phone in (("Pat", PAT), ("Avery", AVERY))
    ]

    async def look(mass_text_id: int) -> httpx.Response:
        transport = httpx.ASGITransport(app=portal.app)
        cookies = dict(portal.client.cookies.items())
        async with httpx.AsyncClient(
            transport=transport, base_url="http://portal.test", cookies=cookies
        ) as client:
            return await client.get(f"/staff/messages/{mass_text_id}")

    async def send_and_look_while_queueing():
        ctx, queueing = portal.ctx, mass_texts.Queueing()
        mass_text_id, _ = await mass_texts.send(
            ctx,
            queueing,
            body="Hello {first_name}",
            recipients=recipients,
            skipped_reasons={},
            criteria="{}",
            send_token="t" * 24,
            urgent=False,
            scheduled_for=None,
            account_id=staff.id,
            ip="127.0.0.1",
        )
        # Take this process's turn to write before the queueing's first one: it waits for it,
        # so the page is seen while the texts are still being queued.
        async with ctx.db.write():
            during = await look(mass_text_id)
        await queueing.join()
        after = await look(mass_text_id)
        return during.text, after.text

    during, after = portal.call(send_and_look_while_queueing)
    assert '<meta name="portal-refresh" content="2">' in during
    assert "Queueing: 0 of 2 texts queued so far." in during
    assert "portal-refresh" not in after and "Queueing" not in after
    assert re.search(r"<dt>Recipients</dt><dd>2<", after)
    assert len(texts(portal)) == 2
