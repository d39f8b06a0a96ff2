"""The fake phone in development: every text with its delivery status, and buttons that send
the same signed status callback Twilio would, through the real app."""

from __future__ import annotations

import re

from staff_steps import login_as, wait_for_queueing

AVERY = "+12015550103"
TOKEN_RE = re.compile(r'name="send_token" value="([^"]+)"')


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


def sid_of(portal, phone: str) -> str:
    [row] = portal.rows(
        "SELECT provider_id FROM outbox WHERE channel = 'sms' AND recipient = :p", {"p": phone}
    )
    return row.provider_id


def mark(portal, sid: str, what: str):
    return portal.post("/dev/phone/status", {"sid": sid, "mark": what}, token_from="/dev/phone")


def test_a_text_the_portal_sent_shows_as_sent_with_buttons_to_mark_it(portal):
    login_as(portal, "texting")
    mass_text(portal)
    portal.deliver()
    phone = portal.client.get("/dev/phone").text
    assert "Hello Avery" in phone and "<strong>Sent</strong>" in phone
    assert 'value="delivered"' in phone and 'value="carrier_opt_out"' in phone
    [row] = portal.rows("SELECT provider_status FROM outbox WHERE recipient = :p", {"p": AVERY})
    assert row.provider_status == "sent"


def test_marking_a_text_delivered_goes_through_the_signed_callback(portal):
    login_as(portal, "texting")
    mass_text_id = mass_text(portal)
    portal.deliver()
    sid = sid_of(portal, AVERY)
    page = mark(portal, sid, "delivered")
    assert "Status sent to the portal." in page.text
    assert re.search(rf'id="{sid}"><span class="hint">[^<]*<strong>Delivered</strong>', page.text)
    report = portal.client.get(f"/staff/messages/{mass_text_id}").text
    assert re.search(r"Delivered to the phone</dt><dd>1<", report)


def test_marking_a_text_failed_shows_failed_on_the_persons_page_and_the_report(portal):
    login_as(portal, "texting")
    mass_text_id = mass_text(portal)
    portal.deliver()
    mark(portal, sid_of(portal, AVERY), "failed")
    person = portal.client.get(f"/staff/people/{portal.person_id('Avery')}").text
    assert "Failed: The phone could not be reached" in person
    report = portal.client.get(f"/staff/messages/{mass_text_id}").text
    assert re.search(r"<dt>Failed</dt><dd>1<", report)
    assert "The phone could not be reached" in report


def test_marking_a_text_opted_out_at_the_carrier_becomes_a_carrier_opt_out(portal):
    login_as(portal, "texting")
    mass_text(portal)
    portal.deliver()
    mark(portal, sid_of(portal, AVERY), "carrier_opt_out")
    [event] = portal.rows("SELECT channel FROM consent_events ORDER BY id DESC LIMIT 1")
    assert event.channel == "carrier"
    [suppressed] = portal.rows(
        "SELECT active FROM phone_suppressions WHERE phone = :p", {"p": AVERY}
    )
    assert suppressed.active
    person = portal.client.get(f"/staff/people/{portal.person_id('Avery')}").text
    assert "The person opted out with their phone company" in person


def test_marking_a_text_the_phone_never_got_or_without_a_token_changes_nothing(portal):
    login_as(portal, "texting")
    mass_text(portal)
    portal.deliver()
    assert mark(portal, "SM" + "0" * 32, "failed").status_code == 400
    assert mark(portal, sid_of(portal, AVERY), "exploded").status_code == 400
    forged = portal.client.post(
        "/dev/phone/status", data={"sid": sid_of(portal, AVERY), "mark": "carrier_opt_out"}
    )
    assert forged.status_code == 403
    assert portal.rows("SELECT phone FROM phone_suppressions") == []
    statuses = portal.rows("SELECT DISTINCT provider_status FROM outbox WHERE channel = 'sms'")
    assert [s.provider_status for s in statuses] == ["sent"]
