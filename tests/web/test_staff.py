"""Staff pages: everyone's status and history, and only for staff."""

from __future__ import annotations

from portal.people import demo


def test_staff_see_everyone_with_their_text_opt_in_status(portal):
    portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    page = portal.client.get("/staff/people")
    assert page.status_code == 200
    for name in ("Pat Parker", "Jordan Parker", "Avery Parker", "Morgan Lee", "Casey Lee"):
        assert name in page.text
    assert "Text Opt-In" in page.text


def test_staff_see_the_history_of_a_persons_consent_with_its_evidence(portal):
    portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    page = portal.client.get(f"/staff/people/{portal.person_id('Avery')}")
    assert page.status_code == 200
    assert "demo data: registration form" in page.text
    assert "Import" in page.text


def test_a_parent_cannot_open_staff_pages(parent):
    assert parent.client.get("/staff/").status_code == 403
    assert parent.client.get(f"/staff/people/{parent.person_id('Morgan')}").status_code == 403


def test_staff_pages_ask_an_anonymous_visitor_to_log_in(portal):
    response = portal.client.get("/staff/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


def test_staff_see_received_texts_with_plain_word_stops_marked_for_review(portal):
    portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    for body in ("please stop texting me", "See you Tuesday"):
        portal.post("/dev/phone", {"from": "(201) 555-0111", "body": body}, token_from="/staff/")
    page = portal.client.get("/staff/messages")
    assert page.status_code == 200
    assert "please stop texting me" in page.text and "See you Tuesday" in page.text
    assert "Review" in page.text
