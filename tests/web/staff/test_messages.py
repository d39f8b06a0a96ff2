"""Messages: compose a text, preview who gets it and why not, send now or later, cancel."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from staff_steps import add_person, login_as, receive_text, wait_for_queueing

from portal.clock import to_db
from portal.messaging import mass_texts

TOKEN_RE = re.compile(r'name="send_token" value="([^"]+)"')


def preview(portal, **form):
    form.setdefault("body", "Hello {first_name}, class is on. {organization}")
    return portal.post("/staff/messages/preview", form, token_from="/staff/messages")


def send(portal, **form):
    """Preview, then click Send with the preview's one-time token."""
    page = preview(portal, **form)
    assert page.status_code == 200, page.text
    token = TOKEN_RE.search(page.text).group(1)
    form.setdefault("body", "Hello {first_name}, class is on. {organization}")
    response = portal.post(
        "/staff/messages/send", {**form, "send_token": token}, token_from="/staff/messages"
    )
    wait_for_queueing(portal)
    return response


def texts(portal) -> list:
    return portal.rows(
        "SELECT o.recipient, o.body_text, o.status, o.next_attempt_at, o.person_id,"
        " o.mass_text_id FROM outbox o WHERE o.template = 'mass_text' ORDER BY o.id"
    )


def test_a_viewer_and_a_parent_may_not_post_anything_here(portal):
    login_as(portal, "texting")
    assert send(portal).status_code == 200
    mass = portal.rows("SELECT id FROM mass_texts")
    assert len(mass) == 1
    login_as(portal, "viewer")
    token = portal.csrf("/staff/messages")
    paths = ["/staff/messages/preview", "/staff/messages/send"]
    paths.append(f"/staff/messages/{mass[0].id}/cancel")
    for path in paths:
        response = portal.client.post(path, data={"csrf_token": token, "body": "hi"})
        assert response.status_code == 403, path
    portal.client.cookies.clear()
    portal.login()
    token = portal.csrf("/account/settings")
    for path in paths:
        assert portal.client.post(path, data={"csrf_token": token}).status_code == 403


def test_a_viewer_sees_messages_without_the_compose_form(portal):
    login_as(portal, "viewer")
    page = portal.client.get("/staff/messages")
    assert page.status_code == 200 and "Received texts" in page.text
    assert 'action="/staff/messages/preview"' not in page.text


def test_preview_names_who_gets_it_and_who_does_not_and_why(portal):
    add_person(portal, "Riley", "+12015550101")  # shares Pat's number
    receive_text(portal, "+12015550112", "STOP")  # Casey
    login_as(portal, "texting")
    page = preview(portal)
    assert page.status_code == 200
    text = page.text
    assert "<strong>3</strong> will receive it" in text  # Pat, Avery and Morgan
    assert "Texts not allowed: 1" in text and "Jordan Parker" in text
    assert "Replied STOP: 1" in text and "Casey Lee" in text
    assert "No cell phone: 1" in text and "Sam Parker" in text
    assert "Same number already receiving it: 1" in text
    assert "Riley Parker" in text
    assert re.search(r"\d+ characters, 1 segment \(GSM-7\)", text)


def test_a_number_shared_by_a_parent_and_two_students_gets_one_text(portal):
    add_person(portal, "Riley", "+12015550101")
    add_person(portal, "Quinn", "+12015550101")
    pat = portal.person_id("Pat")
    login_as(portal, "texting")
    family_id = portal.rows("SELECT family_id FROM people WHERE id = :id", {"id": pat})[0].family_id
    response = send(portal, family=str(family_id), body="Hi {first_name}")
    assert response.status_code == 200 and "Mass text" in response.text
    sent = texts(portal)
    assert sorted(t.recipient for t in sent) == ["+12015550101", "+12015550103"]
    [to_pat] = [t for t in sent if t.recipient == "+12015550101"]
    assert to_pat.body_text == "Hi Pat" and to_pat.person_id == pat
    portal.deliver()
    threads = portal.app.state.fake_phone.threads()
    assert len([t for t in threads["+12015550101"] if t.body == "Hi Pat"]) == 1


def test_a_mass_text_longer_than_a_chunk_queues_each_text_once_and_counts_them(portal, monkeypatch):
    monkeypatch.setattr(mass_texts, "CHUNK", 3)  # four may be texted: a chunk and one more
    login_as(portal, "texting")
    send(portal, body="Hi {first_name}")
    sent = texts(portal)
    assert sorted(t.body_text for t in sent) == ["Hi Avery", "Hi Casey", "Hi Morgan", "Hi Pat"]
    [mass] = portal.rows("SELECT id, chosen, recipients, queueing, queue_error FROM mass_texts")
    assert (mass.chosen, mass.recipients, mass.queueing, mass.queue_error) == (4, 4, 0, "")
    assert {t.mass_text_id for t in sent} == {mass.id}


def test_someone_who_replies_stop_while_a_mass_text_goes_out_gets_nothing_more(portal):
    login_as(portal, "texting")
    send(portal, body="First {first_name}")
    send(portal, body="Second {first_name}")
    receive_text(portal, "+12015550111", "STOP")  # Morgan, after both were queued
    portal.deliver()
    to_morgan = [t for t in texts(portal) if t.recipient == "+12015550111"]
    assert [t.status for t in to_morgan] == ["blocked", "blocked"]
    assert {t.status for t in texts(portal) if t.recipient != "+12015550111"} == {"sent"}
    phone = portal.app.state.fake_phone.threads()
    assert not [t for t in phone.get("+12015550111", []) if t.body.startswith(("First", "Second"))]


def test_outside_sending_hours_a_text_waits_for_the_opening_and_urgent_goes_now(portal, clock):
    # 02:00 UTC on Jan 6 is 21:00 in New York on Jan 5: after the 08:00-20:00 sending hours.
    clock.set(dt.datetime(2026, 1, 6, 2, 0, tzinfo=dt.UTC))
    login_as(portal, "texting")
    send(portal, person=str(portal.person_id("Pat")), body="Not urgent")
    [held] = texts(portal)
    assert held.next_attempt_at == to_db(dt.datetime(2026, 1, 6, 13, 0, tzinfo=dt.UTC))
    page = portal.client.get(f"/staff/messages/{held.mass_text_id}").text
    assert "(from 2026-01-06 08:00 EST)" in page
    portal.deliver()
    assert texts(portal)[0].status == "pending"
    send(portal, person=str(portal.person_id("Pat")), body="Urgent", urgent="on")
    portal.deliver()
    assert [t.status for t in texts(portal)] == ["pending", "sent"]
    clock.set(dt.datetime(2026, 1, 6, 13, 0, tzinfo=dt.UTC))
    portal.deliver()
    assert [t.status for t in texts(portal)] == ["sent", "sent"]


def test_urgent_never_overrides_an_opt_out(portal, clock):
    clock.set(dt.datetime(2026, 1, 6, 2, 0, tzinfo=dt.UTC))
    login_as(portal, "texting")
    send(portal, person=str(portal.person_id("Pat")), body="Urgent", urgent="on")
    receive_text(portal, "+12015550101", "STOP")
    portal.deliver()
    assert [t.status for t in texts(portal)] == ["blocked"]


def test_a_schedule_in_the_past_is_refused_and_a_future_one_waits(portal):
    login_as(portal, "texting")
    pat = str(portal.person_id("Pat"))
    # The clock stands at 10:00 on Jan 5 in New York.
    refused = preview(portal, person=pat, when="later", scheduled_for="2026-01-05T09:00")
    assert refused.status_code == 400 and "That time has passed" in refused.text
    shown = preview(portal, person=pat, when="later", scheduled_for="2026-01-07T09:30")
    assert "Goes out 2026-01-07 09:30 EST" in shown.text
    send(portal, person=pat, when="later", scheduled_for="2026-01-07T09:30")
    [scheduled] = texts(portal)
    assert scheduled.next_attempt_at == to_db(dt.datetime(2026, 1, 7, 14, 30, tzinfo=dt.UTC))
    portal.deliver()
    assert texts(portal)[0].status == "pending"


def test_cancel_cancels_what_has_not_gone_out(portal):
    login_as(portal, "texting")
    send(portal, body="Sent at once")
    portal.deliver()
    sent_first = send(portal, when="later", scheduled_for="2026-01-07T09:30", body="Later")
    assert sent_first.status_code == 200
    [first, second] = portal.rows("SELECT id FROM mass_texts ORDER BY id")
    response = portal.post(
        f"/staff/messages/{second.id}/cancel", {}, token_from=f"/staff/messages/{second.id}"
    )
    assert response.status_code == 200 and "Cancelled: 4 texts" in response.text
    assert {t.status for t in texts(portal) if t.mass_text_id == second.id} == {"cancelled"}
    assert {t.status for t in texts(portal) if t.mass_text_id == first.id} == {"sent"}
    [action] = portal.rows("SELECT details FROM staff_actions WHERE action = 'mass_text_cancel'")
    assert '"cancelled_texts": 4' in action.details


def test_a_double_clicked_send_makes_one_mass_text(portal):
    login_as(portal, "texting")
    form = {"body": "Once {first_name}"}
    page = preview(portal, **form)
    token = TOKEN_RE.search(page.text).group(1)
    for _ in range(2):
        csrf = portal.csrf("/staff/messages")
        portal.client.post(
            "/staff/messages/send", data={**form, "send_token": token, "csrf_token": csrf}
        )
    wait_for_queueing(portal)
    assert len(portal.rows("SELECT id FROM mass_texts")) == 1
    assert len(texts(portal)) == 4
    assert len(portal.rows("SELECT id FROM staff_actions WHERE action = 'mass_text_send'")) == 1


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("", "Write the text to send."),
        ("   ", "Write the text to send."),
        ("Hi {last_name}", "{last_name} is not a placeholder"),
        ("a" * 1531, "The text is 11 segments; at most 10 can be sent."),
    ],
)
def test_bad_texts_are_refused_and_nothing_is_sent(portal, body, words):
    login_as(portal, "texting")
    refused = preview(portal, body=body)
    assert refused.status_code == 400 and words in refused.text
    csrf = portal.csrf("/staff/messages")
    forced = portal.client.post(
        "/staff/messages/send", data={"body": body, "send_token": "x" * 32, "csrf_token": csrf}
    )
    assert forced.status_code == 400
    assert portal.rows("SELECT id FROM mass_texts") == []


def test_a_persons_page_links_to_text_them_and_lists_their_texts_in_words(portal):
    login_as(portal, "texting")
    pat = portal.person_id("Pat")
    page = portal.client.get(f"/staff/people/{pat}").text
    assert "No texts sent to this number yet." in page
    assert f'href="/staff/messages?person={pat}"' in page
    compose = portal.client.get(f"/staff/messages?person={pat}").text
    assert "To: Pat Parker" in compose
    send(portal, person=str(pat), body="Hello Pat")
    row = re.compile(r"<td[^>]*>Hello Pat</td>\s*<td[^>]*>(\w+)</td>")
    assert row.search(portal.client.get(f"/staff/people/{pat}").text).group(1) == "Queued"
    portal.deliver()
    status = row.search(portal.client.get(f"/staff/people/{pat}").text).group(1)
    assert status in ("Sent", "Delivered")
