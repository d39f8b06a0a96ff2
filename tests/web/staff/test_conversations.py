"""Conversations: the numbers that texted us, one number's thread, and a staff reply that
goes out only to someone with the number who may be texted."""

from __future__ import annotations

from staff_steps import login_as, receive_text

PAT = "+12015550101"
MORGAN = "+12015550111"


def reply(portal, phone: str, body: str):
    return portal.post(
        f"/staff/messages/conversations/{phone}/reply",
        {"body": body},
        token_from=f"/staff/messages/conversations/{phone}",
    )


def test_received_texts_are_grouped_by_number_newest_first_with_who_has_it(portal):
    receive_text(portal, PAT, "Is class on today?")
    receive_text(portal, MORGAN, "Running late")
    receive_text(portal, PAT, "Thanks")
    login_as(portal, "viewer")
    page = portal.client.get("/staff/messages/conversations")
    assert page.status_code == 200
    assert page.text.index("Thanks") < page.text.index("Running late")
    assert "Is class on today?" not in page.text  # only each number's last text
    thread = portal.client.get(f"/staff/messages/conversations/{PAT}")
    assert thread.status_code == 200
    assert f'href="/staff/people/{portal.person_id("Pat")}"' in thread.text
    assert thread.text.index("Thanks") < thread.text.index("Is class on today?")
    assert 'action="/staff/messages/conversations/' not in thread.text  # a viewer only looks


def test_a_malformed_or_unknown_number_is_not_found(portal):
    login_as(portal, "viewer")
    for phone in ("12015550101", "+1201555010x", "+1", "+12015550199"):
        assert portal.client.get(f"/staff/messages/conversations/{phone}").status_code == 404


def test_a_reply_reaches_the_fake_phone_and_shows_in_the_thread_with_its_status(portal):
    receive_text(portal, PAT, "Is class on today?")
    login_as(portal, "texting")
    response = reply(portal, PAT, "Yes, at 4pm.")
    assert response.status_code == 200 and "Reply queued" in response.text
    [row] = portal.rows(
        "SELECT person_id, requires_consent FROM outbox WHERE template = 'staff_reply'"
    )
    assert row.person_id == portal.person_id("Pat") and row.requires_consent == 1
    portal.deliver()
    assert [t.body for t in portal.app.state.fake_phone.threads()[PAT]][-1] == "Yes, at 4pm."
    thread = portal.client.get(f"/staff/messages/conversations/{PAT}").text
    assert "Yes, at 4pm." in thread
    assert "Sent by us · Sent" in thread or "Sent by us · Delivered" in thread
    [action] = portal.rows(
        "SELECT action, subject_id FROM staff_actions WHERE action = 'text_reply'"
    )
    assert action.subject_id == portal.person_id("Pat")


def test_a_reply_to_a_number_that_replied_stop_is_refused_and_nothing_is_queued(portal):
    receive_text(portal, MORGAN, "STOP")
    login_as(portal, "texting")
    page = portal.client.get(f"/staff/messages/conversations/{MORGAN}").text
    assert "Replied STOP" in page and 'name="body"' not in page
    response = reply(portal, MORGAN, "Are you sure?")
    assert response.status_code == 400
    assert "nobody with this number may be texted (Replied STOP)" in response.text
    assert portal.rows("SELECT id FROM outbox WHERE template = 'staff_reply'") == []


def test_an_empty_reply_is_refused(portal):
    receive_text(portal, PAT, "Hello?")
    login_as(portal, "texting")
    response = reply(portal, PAT, "   ")
    assert response.status_code == 400 and "Write the text to send." in response.text
    assert portal.rows("SELECT id FROM outbox WHERE template = 'staff_reply'") == []


def test_a_viewer_and_a_parent_may_not_reply(portal):
    receive_text(portal, PAT, "Hello?")
    path = f"/staff/messages/conversations/{PAT}/reply"
    login_as(portal, "viewer")
    token = portal.csrf(f"/staff/messages/conversations/{PAT}")
    assert portal.client.post(path, data={"csrf_token": token, "body": "hi"}).status_code == 403
    portal.client.cookies.clear()
    portal.login()
    token = portal.csrf("/account/settings")
    assert portal.client.post(path, data={"csrf_token": token, "body": "hi"}).status_code == 403
    assert portal.client.get(f"/staff/messages/conversations/{PAT}").status_code == 403
    assert portal.rows("SELECT id FROM outbox WHERE template = 'staff_reply'") == []
