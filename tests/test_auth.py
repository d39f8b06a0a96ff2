"""Login, sessions and passwords: throttled, server-side, and silent about which emails exist."""

from __future__ import annotations

import re

import pytest

from portal import auth, demo

RESET_RE = re.compile(r"http://portal\.test(/reset-password/[A-Za-z0-9._\-]+)")


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(portal):
    wrong = portal.login(demo.PARENT_EMAIL, "not-the-password")
    unknown = portal.login("nobody@demo.example", "not-the-password")
    assert wrong.status_code == unknown.status_code == 400
    message = "That email and password do not match an account."
    assert message in wrong.text and message in unknown.text


def test_login_is_throttled_per_account_without_revealing_whether_it_exists(portal, clock):
    for email in (demo.PARENT_EMAIL, "nobody@demo.example"):
        for _ in range(auth.MAX_FAILURES_PER_EMAIL):
            assert portal.login(email, "wrong-password").status_code == 400
        throttled = portal.login(email, demo.PARENT_PASSWORD)
        assert throttled.status_code == 429 and "Too many attempts" in throttled.text
    clock.advance(minutes=15, seconds=1)
    assert portal.login().url.path == "/account/settings"


def test_login_is_throttled_per_address_across_many_emails(portal):
    for i in range(auth.MAX_FAILURES_PER_ADDRESS):
        portal.login(f"spray{i}@demo.example", "wrong-password")
    assert portal.login().status_code == 429


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "/%0d%0aSet-Cookie:x=1",
    ],
)
def test_next_only_ever_leads_to_a_local_path(portal, target):
    response = portal.client.post(
        "/login",
        data={
            "email": demo.PARENT_EMAIL,
            "password": demo.PARENT_PASSWORD,
            "next": target,
            "csrf_token": portal.csrf("/login"),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\"))
    assert "evil" not in location or location.startswith("/%0d")


def test_next_leads_back_to_the_page_that_asked_for_login(portal):
    response = portal.client.get("/account/students", follow_redirects=False)
    assert response.headers["location"] == "/login?next=/account/students"
    page = portal.client.get(response.headers["location"])
    assert 'name="next" value="/account/students"' in page.text
    landed = portal.client.post(
        "/login",
        data={
            "email": demo.PARENT_EMAIL,
            "password": demo.PARENT_PASSWORD,
            "next": "/account/students",
            "csrf_token": portal.csrf("/login"),
        },
    )
    assert landed.url.path == "/account/students"


def test_the_session_cookie_is_only_a_random_id_and_sessions_live_in_the_database(parent):
    cookie = parent.client.cookies[auth.SESSION_COOKIE]
    assert len(cookie) >= 40 and "parent" not in cookie and "@" not in cookie
    [session] = parent.rows("SELECT id_hash FROM sessions")
    assert session.id_hash == auth.hash_session_id(cookie) != cookie


def test_a_session_cookie_replayed_after_logout_is_refused(parent):
    cookie = parent.client.cookies[auth.SESSION_COOKIE]
    parent.post("/logout", {}, token_from="/account/settings")
    assert parent.rows("SELECT COUNT(*) AS n FROM sessions")[0].n == 0
    parent.client.cookies.clear()
    parent.client.cookies.set(auth.SESSION_COOKIE, cookie)
    response = parent.client.get("/account/settings", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_get_logout_only_shows_a_button(parent):
    page = parent.client.get("/logout")
    assert "Log out" in page.text
    assert parent.client.get("/account/settings").status_code == 200


def test_changing_the_password_ends_every_other_session(portal):
    portal.login()
    other_device = portal.client.cookies[auth.SESSION_COOKIE]
    portal.client.cookies.clear()
    portal.login()
    this_device = portal.client.cookies[auth.SESSION_COOKIE]
    response = portal.post(
        "/account/password",
        {
            "current_password": demo.PARENT_PASSWORD,
            "new_password": "a-brand-new-password",
            "new_password_again": "a-brand-new-password",
        },
    )
    assert "Password changed" in response.text
    assert portal.client.get("/account/settings").status_code == 200
    portal.client.cookies.clear()
    portal.client.cookies.set(auth.SESSION_COOKIE, other_device)
    assert portal.client.get("/account/settings", follow_redirects=False).status_code == 303
    assert this_device != other_device


def test_a_wrong_current_password_changes_nothing(parent):
    response = parent.post(
        "/account/password",
        {
            "current_password": "wrong",
            "new_password": "a-brand-new-password",
            "new_password_again": "a-brand-new-password",
        },
    )
    assert response.status_code == 400
    parent.client.cookies.clear()
    assert parent.login().url.path == "/account/settings"


def forgot(portal, email: str):
    return portal.post("/forgot-password", {"email": email})


def test_forgot_password_answers_the_same_for_unknown_emails_and_mails_only_real_ones(portal):
    known = forgot(portal, demo.PARENT_EMAIL)
    unknown = forgot(portal, "nobody@demo.example")
    assert known.status_code == unknown.status_code == 200
    assert "If that address has an account" in known.text
    assert known.text.replace(demo.PARENT_EMAIL, "") == unknown.text.replace(
        "nobody@demo.example", ""
    )
    [mail] = portal.deliver()
    assert mail.to == [demo.PARENT_EMAIL]


def test_a_reset_link_sets_a_new_password_once_and_ends_every_session(portal):
    portal.login()
    old_session = portal.client.cookies[auth.SESSION_COOKIE]
    forgot(portal, demo.PARENT_EMAIL)
    path = RESET_RE.search(portal.deliver()[0].text).group(1)
    portal.client.cookies.clear()
    done = portal.post(path, {"password": "reset-password-1", "password_again": "reset-password-1"})
    assert "Your new password is saved" in done.text
    again = portal.post(
        path,
        {"password": "reset-password-2", "password_again": "reset-password-2"},
        token_from="/login",
    )
    assert "already used" in again.text
    assert portal.login(demo.PARENT_EMAIL, "reset-password-1").url.path == "/account/settings"
    portal.client.cookies.clear()
    portal.client.cookies.set(auth.SESSION_COOKIE, old_session)
    assert portal.client.get("/account/settings", follow_redirects=False).status_code == 303


def test_a_reset_link_expires_exactly_at_its_lifetime(portal, clock):
    forgot(portal, demo.PARENT_EMAIL)
    path = RESET_RE.search(portal.deliver()[0].text).group(1)
    clock.advance(minutes=60, seconds=-1)
    assert "Choose a new password" in portal.client.get(path).text
    clock.advance(seconds=1)
    page = portal.client.get(path)
    assert page.status_code == 400 and "expired" in page.text
    refused = portal.post(
        path,
        {"password": "reset-password-1", "password_again": "reset-password-1"},
        token_from="/login",
    )
    assert "expired" in refused.text
    assert portal.login().url.path == "/account/settings"  # the old password still works


def test_a_consent_link_token_is_not_a_password_reset_token(parent):
    jordan = parent.person_id("Jordan")
    parent.post(
        f"/account/contacts/{jordan}/edit",
        {
            "first_name": "Jordan",
            "last_name": "Parker",
            "email": "jordan@demo.example",
            "cell_phone": "(201) 555-0102",
            "allow_texting": "on",
        },
    )
    [mail] = parent.deliver()
    token = re.search(r"/text-consent/([A-Za-z0-9._\-]+)", mail.text).group(1)
    page = parent.client.get(f"/reset-password/{token}")
    assert page.status_code == 400 and "not valid" in page.text
