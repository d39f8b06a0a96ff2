"""Login, throttling, `next`, server-side sessions, logout, password change and reset."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from portal import links
from portal.accounts import sessions
from portal.people import demo
from portal.web import auth_views

RESET_LINK_RE = re.compile(r"http://portal\.test/reset-password/(\S+)")
NEW_PASSWORD = "a-brand-new-password-42"
MISMATCH = "That email and password do not match an account."


def login(portal, email=demo.PARENT_EMAIL, password=demo.PARENT_PASSWORD, **extra):
    return portal.client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": portal.csrf("/login"), **extra},
        follow_redirects=False,
    )


def session_cookie(portal) -> str:
    return portal.client.cookies.get(sessions.SESSION_COOKIE)


def use_session(portal, value: str) -> None:
    portal.client.cookies.delete(sessions.SESSION_COOKIE)
    portal.client.cookies.set(sessions.SESSION_COOKIE, value)


def is_logged_in(portal) -> bool:
    response = portal.client.get("/account/settings", follow_redirects=False)
    return response.status_code == 200


def reset_url(portal, email=demo.PARENT_EMAIL) -> str:
    portal.mailbox.clear()
    portal.post("/forgot-password", {"email": email})
    [mail] = portal.deliver()
    return RESET_LINK_RE.search(mail.text).group(0).removeprefix("http://portal.test")


# --- login ------------------------------------------------------------------------------------


def test_the_right_password_logs_in_and_lands_on_settings(portal):
    response = login(portal)
    assert response.status_code == 303
    assert response.headers["location"] == "/account/settings"
    assert is_logged_in(portal)


def test_an_unknown_email_and_a_wrong_password_get_the_same_answer(portal):
    unknown = login(portal, email="nobody@demo.example")
    wrong = login(portal, password="not-the-password")
    assert unknown.status_code == wrong.status_code == 400
    assert MISMATCH in unknown.text and MISMATCH in wrong.text
    assert session_cookie(portal) in (None, "")


def test_a_disabled_account_cannot_log_in(portal):
    portal.rows("SELECT 1")  # the database is up
    portal.call(_disable, portal, demo.PARENT_EMAIL)
    response = login(portal)
    assert response.status_code == 400 and MISMATCH in response.text


async def _disable(portal, email):
    async with portal.ctx.db.write() as conn:
        await conn.execute("UPDATE accounts SET disabled = 1 WHERE email = :e", {"e": email})


# --- throttling -------------------------------------------------------------------------------


def test_five_failures_make_the_account_wait_even_with_the_right_password(portal, clock):
    for _ in range(sessions.MAX_FAILURES_PER_EMAIL):
        assert login(portal, password="wrong-password").status_code == 400
    throttled = login(portal)
    assert throttled.status_code == 429
    assert "Too many attempts" in throttled.text
    assert not is_logged_in(portal)

    clock.advance(minutes=14, seconds=59)
    assert login(portal).status_code == 429

    clock.advance(seconds=2)  # past the 15-minute window
    assert login(portal).status_code == 303
    assert is_logged_in(portal)


def test_failures_on_one_account_do_not_lock_out_another(portal):
    for _ in range(sessions.MAX_FAILURES_PER_EMAIL):
        login(portal, password="wrong-password")
    response = login(portal, email=demo.SECOND_PARENT_EMAIL, password=demo.SECOND_PARENT_PASSWORD)
    assert response.status_code == 303


def test_spraying_many_emails_from_one_address_is_throttled_per_address(portal, clock):
    for n in range(sessions.MAX_FAILURES_PER_ADDRESS):
        assert login(portal, email=f"guess{n}@demo.example", password="x").status_code == 400
    # The next try from that address waits, whichever account it names.
    response = login(portal, email=demo.SECOND_PARENT_EMAIL, password=demo.SECOND_PARENT_PASSWORD)
    assert response.status_code == 429
    clock.advance(minutes=15, seconds=1)
    response = login(portal, email=demo.SECOND_PARENT_EMAIL, password=demo.SECOND_PARENT_PASSWORD)
    assert response.status_code == 303


# --- next -------------------------------------------------------------------------------------


def test_next_to_a_local_path_is_followed(portal):
    response = login(portal, next="/account/students")
    assert response.headers["location"] == "/account/students"


def test_a_page_that_needs_login_sends_you_back_to_it_afterwards(portal):
    response = portal.client.get("/account/contacts", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/account/contacts"
    page = portal.client.get(response.headers["location"])
    assert 'value="/account/contacts"' in page.text


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "//evil.example/account",
        "https://evil.example",
        "http://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " //evil.example",
        "/\t/evil.example",
        "/%2F/evil.example",
        "/%0d%0aSet-Cookie:x=1",
        "/account\r\nLocation: https://evil.example",
        "evil.example",
    ],
)
def test_next_never_leaves_the_portal(portal, target):
    response = login(portal, next=target)
    assert response.status_code == 303
    location = response.headers["location"]
    # What a browser would do with it: drop tabs and line breaks, read \ as /.
    seen = urlsplit(re.sub(r"[\t\r\n]", "", location).replace("\\", "/"))
    assert not seen.scheme and not seen.netloc
    assert location.startswith("/")


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example", "javascript:x"])
def test_the_login_page_does_not_carry_a_foreign_next(portal, target):
    page = portal.client.get("/login", params={"next": target})
    assert "evil.example" not in page.text and "javascript:" not in page.text


# --- sessions ---------------------------------------------------------------------------------


def test_the_session_cookie_is_a_random_id_and_holds_no_account_data(portal):
    response = login(portal)
    value = session_cookie(portal)
    assert value and len(value) >= 40
    account = portal.rows(
        "SELECT id, email FROM accounts WHERE email = :e", {"e": demo.PARENT_EMAIL}
    )[0]
    assert demo.PARENT_EMAIL not in value and "parker" not in value.lower()
    assert value != str(account.id)
    header = response.headers["set-cookie"].lower()
    assert "httponly" in header and "samesite=lax" in header
    # Server-side: the table keeps a hash of the id, never the id itself.
    [stored] = portal.rows("SELECT id_hash, account_id FROM sessions")
    assert stored.account_id == account.id
    assert stored.id_hash == sessions.hash_session_id(value) != value


def test_two_logins_get_different_session_ids(portal):
    login(portal)
    first = session_cookie(portal)
    portal.client.cookies.clear()
    login(portal)
    assert session_cookie(portal) != first


def test_a_forged_session_cookie_is_refused(portal):
    login(portal)
    account_id = portal.rows("SELECT id FROM accounts WHERE email = :e", {"e": demo.PARENT_EMAIL})[
        0
    ].id
    for forged in (str(account_id), demo.PARENT_EMAIL, "x" * 43):
        use_session(portal, forged)
        assert not is_logged_in(portal)


def test_a_session_cookie_replayed_after_logout_is_refused(portal):
    login(portal)
    stolen = session_cookie(portal)
    assert is_logged_in(portal)
    response = portal.post("/logout", {}, token_from="/logout")
    assert response.url.path == "/login"
    assert portal.rows("SELECT * FROM sessions") == []
    use_session(portal, stolen)
    assert not is_logged_in(portal)


def test_logout_by_get_changes_nothing(portal):
    login(portal)
    portal.client.get("/logout")
    assert is_logged_in(portal)


def test_a_session_expires_after_its_days(portal, clock):
    login(portal)
    clock.advance(days=portal.ctx.settings.session_days, seconds=1)
    assert not is_logged_in(portal)


def test_changing_the_password_ends_every_other_session(portal):
    login(portal)
    other_device = session_cookie(portal)
    portal.client.cookies.clear()
    login(portal)
    this_device = session_cookie(portal)

    response = portal.post(
        "/account/password",
        {
            "current_password": demo.PARENT_PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )
    assert response.status_code == 200
    assert "Other devices have been logged out" in response.text

    assert is_logged_in(portal)  # this device stays
    use_session(portal, other_device)
    assert not is_logged_in(portal)
    use_session(portal, this_device)
    assert is_logged_in(portal)
    portal.client.cookies.clear()
    assert login(portal).status_code == 400
    assert login(portal, password=NEW_PASSWORD).status_code == 303


def test_a_wrong_current_password_changes_nothing(portal):
    login(portal)
    response = portal.post(
        "/account/password",
        {
            "current_password": "not-it",
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )
    assert response.status_code == 400
    portal.client.cookies.clear()
    assert login(portal).status_code == 303


# --- forgot / reset password ------------------------------------------------------------------


def test_forgot_password_answers_the_same_for_unknown_emails_and_sends_them_nothing(portal):
    known = portal.post("/forgot-password", {"email": demo.PARENT_EMAIL})
    unknown = portal.post("/forgot-password", {"email": "nobody@demo.example"})
    assert known.status_code == unknown.status_code == 200
    strip = lambda text: re.sub(r'value="[^"]*"', "", text)  # noqa: E731
    assert strip(known.text) == strip(unknown.text)
    mails = portal.deliver()
    assert [m.to for m in mails] == [[demo.PARENT_EMAIL]]


def test_the_reset_link_sets_a_new_password_and_ends_every_session(portal):
    login(portal)
    old_session = session_cookie(portal)
    portal.client.cookies.clear()
    url = reset_url(portal)
    assert "Choose" in portal.client.get(url).text or portal.client.get(url).status_code == 200
    done = portal.post(url, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert done.status_code == 200
    use_session(portal, old_session)
    assert not is_logged_in(portal)
    portal.client.cookies.clear()
    assert login(portal, password=NEW_PASSWORD).status_code == 303


def test_the_reset_link_works_once(portal):
    url = reset_url(portal)
    assert (
        portal.post(url, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD}).status_code
        == 200
    )
    again = portal.post(
        url,
        {"password": "yet-another-password-9", "password_again": "yet-another-password-9"},
        token_from="/forgot-password",
    )
    assert again.status_code == 400
    assert "already used" in again.text
    assert login(portal, password=NEW_PASSWORD).status_code == 303


def test_the_reset_link_works_until_just_before_its_expiry(portal, clock):
    url = reset_url(portal)
    clock.advance(minutes=portal.ctx.settings.password_reset_minutes, microseconds=-1)
    assert portal.client.get(url).status_code == 200
    response = portal.post(url, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert response.status_code == 200


def test_the_reset_link_has_expired_one_second_after_its_expiry(portal, clock):
    url = reset_url(portal)
    clock.advance(minutes=portal.ctx.settings.password_reset_minutes)
    assert portal.client.get(url).status_code == 200  # exactly at its expiry: still good
    clock.advance(seconds=1)
    page = portal.client.get(url)
    assert page.status_code == 400 and "expired" in page.text
    response = portal.post(
        url,
        {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
        token_from="/forgot-password",
    )
    assert response.status_code == 400 and "expired" in response.text
    assert login(portal).status_code == 303  # the old password still works


def test_a_token_made_for_another_purpose_is_not_a_reset_link(portal):
    pat = portal.person_id("Pat")
    account_id = portal.rows("SELECT id FROM accounts WHERE email = :e", {"e": demo.PARENT_EMAIL})[
        0
    ].id

    async def issue_consent_link():
        async with portal.ctx.db.write() as conn:
            return await portal.ctx.consent_links.issue(
                conn, person_id=pat, account_id=account_id, phone="+12015550101", consent_version=1
            )

    link = portal.call(issue_consent_link)
    url = f"/reset-password/{link.token}"
    page = portal.client.get(url)
    assert page.status_code == 400 and "not valid" in page.text
    response = portal.post(
        url,
        {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
        token_from="/forgot-password",
    )
    assert response.status_code == 400
    assert login(portal).status_code == 303


def test_a_reset_token_does_not_verify_as_a_consent_link(portal):
    url = reset_url(portal)
    token = url.rsplit("/", 1)[1]
    with pytest.raises(links.LinkInvalid):
        portal.ctx.consent_links.link_id_of(token)


@pytest.mark.parametrize("mangle", [lambda t: t[:-3], lambda t: t + "x", lambda t: "A" + t[1:]])
def test_a_tampered_reset_link_is_refused(portal, mangle):
    url = reset_url(portal)
    token = url.rsplit("/", 1)[1]
    page = portal.client.get(f"/reset-password/{mangle(token)}")
    assert page.status_code == 400 and "not valid" in page.text


def test_a_reset_link_issued_before_a_password_change_no_longer_works(portal, clock):
    url = reset_url(portal)
    clock.advance(minutes=5)
    login(portal)
    changed = portal.post(
        "/account/password",
        {
            "current_password": demo.PARENT_PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 200
    portal.client.cookies.clear()
    page = portal.client.get(url)
    assert page.status_code == 400 and "out of date" in page.text
    response = portal.post(
        url,
        {"password": "attacker-password-1", "password_again": "attacker-password-1"},
        token_from="/forgot-password",
    )
    assert response.status_code == 400
    assert login(portal, password=NEW_PASSWORD).status_code == 303


def test_a_reset_link_for_an_account_disabled_since_does_not_work(portal):
    url = reset_url(portal)
    portal.call(_disable, portal, demo.PARENT_EMAIL)
    assert portal.client.get(url).status_code == 400
    response = portal.post(
        url,
        {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
        token_from="/forgot-password",
    )
    assert response.status_code == 400
    [account] = portal.rows(
        "SELECT password_changed_at FROM accounts WHERE email = :e", {"e": demo.PARENT_EMAIL}
    )
    assert account.password_changed_at == "2026-01-05T15:00:00.000000+00:00"


def test_an_unknown_email_is_throttled_just_like_a_known_one(portal):
    for _ in range(sessions.MAX_FAILURES_PER_EMAIL):
        login(portal, email="nobody@demo.example", password="x")
    known = [login(portal, password="x") for _ in range(sessions.MAX_FAILURES_PER_EMAIL)]
    assert {r.status_code for r in known} == {400}
    unknown = login(portal, email="nobody@demo.example", password="x")
    throttled = login(portal, password="x")
    assert unknown.status_code == throttled.status_code == 429
    assert "Too many attempts" in unknown.text and "Too many attempts" in throttled.text


def test_the_email_is_matched_without_regard_to_case_or_spaces(portal):
    assert login(portal, email="  PARENT@Demo.Example ").status_code == 303


def test_forgot_password_cannot_be_used_to_flood_someones_inbox(portal, clock):
    for _ in range(10):
        response = portal.post("/forgot-password", {"email": demo.PARENT_EMAIL})
        assert response.status_code == 200 and "If that address has an account" in response.text
    assert len(portal.deliver()) == auth_views.MAX_RESET_EMAILS_PER_HOUR
    clock.advance(hours=1, seconds=1)
    portal.mailbox.clear()
    portal.post("/forgot-password", {"email": demo.PARENT_EMAIL})
    assert len(portal.deliver()) == 1


def test_disabling_an_account_ends_its_live_sessions(portal):
    login(portal)
    assert is_logged_in(portal)
    portal.call(_disable, portal, demo.PARENT_EMAIL)
    assert not is_logged_in(portal)


def test_pages_carry_safe_headers_and_logged_in_pages_are_not_cached(portal):
    anonymous = portal.client.get("/login")
    for response in (anonymous,):
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    login(portal)
    page = portal.client.get("/account/settings")
    assert page.headers["cache-control"] == "no-store"
