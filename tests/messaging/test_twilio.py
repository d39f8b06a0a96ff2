"""Twilio's own words stay in messaging/twilio.py: what its webhooks and errors become."""

from __future__ import annotations

from portal.messaging import twilio


def test_a_status_callback_with_21610_becomes_a_recipient_opt_out():
    report = twilio.delivery_report(
        {"MessageSid": "SM1", "MessageStatus": "Undelivered", "ErrorCode": "21610", "To": "+1"}
    )
    assert report.status == "undelivered" and report.recipient_opted_out
    assert report.evidence["error_code"] == "21610"


def test_an_unknown_status_or_a_missing_sid_is_refused():
    assert twilio.delivery_report({"MessageSid": "SM1", "MessageStatus": "exploded"}) is None
    assert twilio.delivery_report({"MessageStatus": "sent"}) is None


def test_opt_out_type_says_the_provider_already_answered():
    text = twilio.inbound_text(
        {"MessageSid": "SM2", "From": "+12015550101", "Body": "stop", "OptOutType": "STOP"}
    )
    assert text.provider_answered == "opt_out" and text.provider_detail == "STOP"
    assert twilio.inbound_text({"From": "+12015550101"}) is None
