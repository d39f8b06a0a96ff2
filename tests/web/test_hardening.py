"""Hardening of the web layer (issue 8): client addresses behind proxies, login throttling,
password rehashing, Origin checks, cookies and HSTS, tokens in the access log, error pages,
huge ids and idle sessions."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
import threading

import httpx
import pytest
from argon2 import PasswordHasher
from conftest import PUBLIC_URL, PortalDriver
from starlette.exceptions import HTTPException
from starlette.testclient import TestClient

from portal.accounts import passwords, sessions
from portal.app import create_app
from portal.db import Database, migrate
from portal.people import demo
from portal.settings import Settings, SettingsError
from portal.web.ids import parse_id
from portal.web.proxies import TrustedProxies


@contextlib.contextmanager
def running_portal(settings, clock, mailbox, *, peer="testclient", **changes):
    """The real app with some settings changed, reached from the address `peer`."""
    settings = dataclasses.replace(settings, **changes)
    app = create_app(settings, clock=clock, start_dispatcher=False)
    with TestClient(app, base_url=settings.public_url, client=(peer, 40000)) as client:
        driver = PortalDriver(client, app, mailbox)
        driver.call(demo.load, app.state.ctx)
        yield driver


def login_from(portal, forwarded_for=None, *, email=demo.PARENT_EMAIL, password=None):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    token = portal.csrf("/login")
    return portal.client.post(
        "/login",
        data={
            "email": email,
            "password": password or demo.PARENT_PASSWORD,
            "csrf_token": token,
        },
        headers=headers,
        follow_redirects=False,
    )


# --- 5. the client's address behind proxies -------------------------------------------------


def test_behind_a_star_load_balancer_the_address_it_appended_is_taken_not_the_clients_own(
    settings, clock, mailbox
):
    with running_portal(
        settings, clock, mailbox, peer="10.0.0.5", forwarded_allow_ips="*"
    ) as portal:
        response = login_from(portal, "6.6.6.6, 203.0.113.9")
        assert response.status_code == 303
        [session] = portal.rows("SELECT ip FROM sessions")
        assert session.ip == "203.0.113.9"


def test_the_ledger_records_the_address_our_proxy_saw_not_one_the_client_wrote(
    settings, clock, mailbox
):
    with running_portal(
        settings, clock, mailbox, peer="10.0.0.5", forwarded_allow_ips="*"
    ) as portal:
        forged = '=HYPERLINK("http://evil.example"), 6.6.6.6, 198.51.100.7'
        assert login_from(portal, forged).status_code == 303
        avery = portal.person_id("Avery")
        token = portal.csrf(f"/account/students/{avery}/edit")
        portal.client.post(
            f"/account/students/{avery}/edit",
            data={"first_name": "Avery", "last_name": "Parker", "csrf_token": token},
            headers={"X-Forwarded-For": forged},
        )
        [event] = portal.rows("SELECT ip FROM consent_events ORDER BY id DESC LIMIT 1")
        assert event.ip == "198.51.100.7"


def test_a_client_cannot_dodge_the_per_address_limit_by_writing_x_forwarded_for(
    settings, clock, mailbox
):
    with running_portal(
        settings, clock, mailbox, peer="10.0.0.5", forwarded_allow_ips="*"
    ) as portal:
        for n in range(sessions.MAX_FAILURES_PER_ADDRESS):
            claimed = f"192.0.2.{n}, 203.0.113.9"  # a new address every time, on the left
            response = login_from(portal, claimed, email=f"guess{n}@demo.example", password="x")
            assert response.status_code == 400
        assert login_from(portal, "192.0.2.200, 203.0.113.9").status_code == 429


@pytest.mark.parametrize(
    ("trusted", "peer", "forwarded_for", "client"),
    [
        # Not from a proxy of ours: the header is the client's own words.
        ("127.0.0.1", "203.0.113.9", "6.6.6.6", "203.0.113.9"),
        # Walk from the right past our proxies; the first other hop is the client.
        ("10.0.0.0/8", "10.0.0.5", "6.6.6.6, 203.0.113.9, 10.1.2.3", "203.0.113.9"),
        ("127.0.0.1, 10.0.0.5", "127.0.0.1", "6.6.6.6, 203.0.113.9:5123, 10.0.0.5", "203.0.113.9"),
        # '*': the right-most entry, the one the load balancer appended.
        ("*", "10.0.0.5", "6.6.6.6, 203.0.113.9", "203.0.113.9"),
        ("*", "10.0.0.5", "[2001:db8::1]:443", "2001:db8::1"),
        # Something that is not an address is never taken, nor anything left of it.
        ("*", "10.0.0.5", '6.6.6.6, =HYPERLINK("x")', "10.0.0.5"),
        ("10.0.0.0/8", "10.0.0.5", "6.6.6.6, junk, 10.1.2.3", "10.0.0.5"),
        # Only our own proxies in the list: the first of them.
        ("10.0.0.0/8", "10.0.0.5", "10.9.9.9, 10.1.2.3", "10.9.9.9"),
    ],
)
def test_only_the_hops_our_proxies_added_are_believed(trusted, peer, forwarded_for, client):
    assert TrustedProxies(trusted).client_host(peer, forwarded_for) == client


# --- 5 and 10, through `portal serve` and a real uvicorn ------------------------------------


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def served(tmp_path, monkeypatch):
    """`portal serve` for real: uvicorn started with exactly the arguments the CLI gives it
    (on a free port), its access log collected; yields a function that GETs a path."""
    import uvicorn

    from portal.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'served.sqlite3'}")
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")
    monkeypatch.setenv("RUN_DISPATCHER", "false")
    servers = []

    def run(app, **kwargs):
        server = uvicorn.Server(uvicorn.Config(app, **{**kwargs, "port": 0}))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        servers.append((server, thread))

    monkeypatch.setattr(uvicorn, "run", run)
    access = logging.getLogger("uvicorn.access")
    lines = _Lines()
    try:
        assert main(["serve", "--host", "127.0.0.1"]) == 0
        [(server, thread)] = servers
        access.addHandler(lines)
        for _ in range(1000):  # wait for the listener, not for a time
            if server.started:
                break
            thread.join(0.01)
        assert server.started
        port = server.servers[0].sockets[0].getsockname()[1]

        def get(path: str, **headers: str):
            with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
                return client.get(path, headers=headers, follow_redirects=False)

        get.access_log = lines.lines
        yield get
    finally:
        access.removeHandler(lines)
        for server, thread in servers:
            server.should_exit = True
            thread.join(10)
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
            for handler in logging.getLogger(name).handlers[:]:
                logging.getLogger(name).removeHandler(handler)


def test_portal_serve_logs_the_address_the_load_balancer_appended(served):
    served("/login", **{"X-Forwarded-For": "6.6.6.6, 203.0.113.9"})
    [line] = [ln for ln in served.access_log if "/login" in ln]
    assert line.startswith("203.0.113.9:")
    assert "6.6.6.6" not in line


def test_portal_serve_keeps_emailed_link_tokens_out_of_the_access_log(served):
    token = "eyJpZCI6MTIzfQ.Zm9vYmFyYmF6.c2lnbmF0dXJlLXZhbHVl"
    for path in (f"/reset-password/{token}", f"/invite/{token}", f"/text-consent/{token}"):
        served(path)
        served(f"{path}/new-link?x=1")
    log = "\n".join(served.access_log)
    assert token not in log and token[6:20] not in log
    assert f"/reset-password/{token[:6]}…" in log
    assert f"/text-consent/{token[:6]}…/new-link?x=1" in log
    assert "/invite/" in log


# --- 12. huge ids ----------------------------------------------------------------------------

HUGE = "99999999999999999999"


@pytest.mark.parametrize(
    "path",
    [
        f"/account/students/{HUGE}",
        f"/account/students/{HUGE}/edit",
        f"/account/contacts/{HUGE}/edit",
        f"/account/students/{2**63}",
        "/account/students/0",
        "/account/students/-1",
        "/account/students/1e3",
    ],
)
def test_an_id_no_database_key_can_hold_is_not_found_on_family_pages(parent, path):
    assert parent.client.get(path).status_code == 404


@pytest.mark.parametrize("person_id", [HUGE, str(2**63), "0", "٣"])
def test_an_id_no_database_key_can_hold_is_not_found_on_staff_pages(portal, person_id):
    assert portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD).status_code == 200
    assert portal.client.get(f"/staff/people/{person_id}").status_code == 404


def test_a_huge_id_posted_to_a_family_form_is_not_found_and_changes_nothing(parent):
    events = len(parent.rows("SELECT id FROM consent_events"))
    response = parent.post(
        f"/account/students/{HUGE}/edit",
        {"first_name": "X", "last_name": "Y"},
        token_from="/account/settings",
    )
    assert response.status_code == 404
    assert len(parent.rows("SELECT id FROM consent_events")) == events


@pytest.mark.parametrize("value", ["1", " 42 ", str(2**63 - 1)])
def test_parse_id_takes_every_id_a_key_can_hold(value):
    assert parse_id(value) == int(value)


@pytest.mark.parametrize("value", ["", "0", "-3", "abc", "1.5", "٣", str(2**63), HUGE])
def test_parse_id_refuses_what_a_key_cannot_hold(value):
    with pytest.raises(HTTPException) as refused:
        parse_id(value)
    assert refused.value.status_code == 404


# --- 11. pages that need a login, and the 500 page -------------------------------------------


def test_the_password_page_sends_an_anonymous_visitor_to_log_in(portal):
    page = portal.client.get("/account/password", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/account/password"
    form = {"current_password": "x", "new_password": "y" * 12, "new_password_again": "y" * 12}
    response = portal.client.post(
        "/account/password",
        data={**form, "csrf_token": portal.csrf("/login")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_every_account_and_staff_page_sends_an_anonymous_visitor_to_log_in(portal):
    """Closes the gap, not the case: a page under /account/ or /staff/ added later without a
    login check fails here."""
    token = portal.csrf("/login")
    checked = 0
    for route in portal.app.routes:
        path = getattr(route, "path", "")
        if not path.startswith(("/account/", "/staff/")):
            continue
        url = re.sub(r"\{[^}]+\}", "1", path)  # every path parameter: ids, phones, ...
        for method in sorted(route.methods or ()):
            if method == "HEAD":
                continue
            data = {"csrf_token": token} if method == "POST" else None
            response = portal.client.request(method, url, data=data, follow_redirects=False)
            assert response.status_code == 303, f"{method} {url}"
            assert response.headers["location"].startswith("/login"), f"{method} {url}"
            checked += 1
    assert checked >= 15


def test_an_unexpected_error_shows_a_friendly_500_page_without_a_traceback(app, mailbox):
    async def broken(request):
        raise RuntimeError("secret internals: /srv/portal/db.py line 12")

    app.router.add_route("/broken-for-the-test", broken)
    with TestClient(app, base_url=PUBLIC_URL, raise_server_exceptions=False) as client:
        page = client.get("/broken-for-the-test")
    assert page.status_code == 500
    assert "text/html" in page.headers["content-type"]
    assert "Something went wrong" in page.text and "<html" in page.text.lower()
    assert "secret internals" not in page.text and "Traceback" not in page.text


# --- 8. Origin and Referer --------------------------------------------------------------------


def post_login_with(portal, **headers):
    token = portal.csrf("/login")
    return portal.client.post(
        "/login",
        data={"email": demo.PARENT_EMAIL, "password": demo.PARENT_PASSWORD, "csrf_token": token},
        headers=headers,
        follow_redirects=False,
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://portal.test.evil.example"},
        {"Origin": "https://portal.test"},  # another scheme is another origin
        {"Origin": "http://portal.test:8080"},
        {"Referer": "https://evil.example/portal.test/login"},
        {"Origin": "https://evil.example", "Referer": f"{PUBLIC_URL}/login"},
    ],
)
def test_a_post_from_another_origin_is_refused_even_with_a_valid_token(portal, headers):
    response = post_login_with(portal, **headers)
    assert response.status_code == 403
    assert "did not save anything" in response.text
    assert portal.rows("SELECT id_hash FROM sessions") == []


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Origin": PUBLIC_URL},
        {"Origin": "HTTP://Portal.Test:80"},
        {"Referer": f"{PUBLIC_URL}/login?next=/account/settings"},
    ],
)
def test_a_post_from_the_portals_own_origin_or_with_neither_header_is_accepted(portal, headers):
    assert post_login_with(portal, **headers).status_code == 303


def test_a_post_from_another_origin_is_refused_on_a_logged_in_form_too(parent):
    avery = parent.person_id("Avery")
    token = parent.csrf(f"/account/students/{avery}/edit")
    response = parent.client.post(
        f"/account/students/{avery}/edit",
        data={"first_name": "Mallory", "last_name": "Parker", "csrf_token": token},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert parent.rows("SELECT id FROM people WHERE first_name = 'Mallory'") == []


def test_the_signed_webhooks_do_not_depend_on_origin(portal):
    response = portal.client.post(
        "/webhooks/twilio/sms", data={"Body": "STOP"}, headers={"Origin": "null"}
    )
    # The webhook's own signature check answered, not the form check.
    assert response.status_code == 403 and response.text == "signature check failed"


def test_in_development_a_page_served_at_another_address_may_post_to_itself(portal):
    # `portal serve --port 8123` while PUBLIC_URL still names port 8000.
    token = portal.csrf("http://127.0.0.1:8123/login")
    response = portal.client.post(
        "http://127.0.0.1:8123/login",
        data={"email": demo.PARENT_EMAIL, "password": demo.PARENT_PASSWORD, "csrf_token": token},
        headers={"Origin": "http://127.0.0.1:8123"},
        follow_redirects=False,
    )
    assert response.status_code == 303


def test_in_production_only_public_urls_origin_is_accepted(settings, clock, mailbox):
    asyncio.run(_migrate(settings.database_url))
    with running_portal(settings, clock, mailbox, environment="production") as portal:
        # Production does not answer at another address at all (the allowed hosts)...
        assert portal.client.get("http://127.0.0.1:8123/login").status_code == 400
        # ...and a form posted to PUBLIC_URL from a page at that address is refused too.
        token = portal.csrf("/login")
        response = portal.client.post(
            "/login",
            data={
                "email": demo.PARENT_EMAIL,
                "password": demo.PARENT_PASSWORD,
                "csrf_token": token,
            },
            headers={"Origin": "http://127.0.0.1:8123"},
            follow_redirects=False,
        )
        assert response.status_code == 403
        assert post_login_with(portal, Origin=PUBLIC_URL).status_code == 303


async def _migrate(url: str) -> None:
    db = Database(url)
    await db.connect()
    try:
        await migrate.apply(db)
    finally:
        await db.disconnect()


# --- 9. cookies and HSTS with an https PUBLIC_URL ---------------------------------------------


def test_with_an_https_public_url_cookies_are_host_prefixed_and_hsts_is_sent(
    settings, clock, mailbox
):
    with running_portal(settings, clock, mailbox, public_url="https://portal.test") as portal:
        page = portal.client.get("/login")
        assert page.headers["strict-transport-security"] == "max-age=31536000"
        csrf_cookie = page.headers["set-cookie"]
        assert csrf_cookie.startswith("__Host-portal_csrf=")
        response = login_from(portal)
        assert response.status_code == 303
        session = response.headers["set-cookie"]
        assert session.startswith("__Host-portal_session=")
        for cookie in (csrf_cookie, session):
            attributes = cookie.lower()
            assert "; secure" in attributes and "; path=/" in attributes
            assert "domain=" not in attributes
        assert portal.client.cookies.get("portal_session") is None
        home = portal.client.get("/account/settings", follow_redirects=False)
        assert home.status_code == 200
        assert home.headers["strict-transport-security"] == "max-age=31536000"


def test_a_cookie_without_the_prefix_is_ignored_when_the_portal_is_https(settings, clock, mailbox):
    with running_portal(settings, clock, mailbox, public_url="https://portal.test") as portal:
        assert login_from(portal).status_code == 303
        value = portal.client.cookies.get("__Host-portal_session")
        portal.client.cookies.clear()
        # Planted by a sibling subdomain or a plain-http page: not the session cookie.
        portal.client.cookies.set("portal_session", value)
        assert portal.client.get("/account/settings", follow_redirects=False).status_code == 303


def test_with_an_http_public_url_there_is_no_hsts(portal):
    assert "strict-transport-security" not in portal.client.get("/login").headers


# --- 6. login throttling ---------------------------------------------------------------------


async def _concurrent_logins(app, cookies: dict, token: str, count: int) -> list[int]:
    transport = httpx.ASGITransport(app=app, client=("198.51.100.20", 5000))
    async with httpx.AsyncClient(
        transport=transport, base_url=PUBLIC_URL, cookies=cookies
    ) as client:

        async def attempt(n: int) -> int:
            response = await client.post(
                "/login",
                data={"email": demo.PARENT_EMAIL, "password": f"wrong-{n}", "csrf_token": token},
            )
            return response.status_code

        return list(await asyncio.gather(*(attempt(n) for n in range(count))))


def test_fifty_concurrent_wrong_passwords_meet_the_limit_one_by_one(portal):
    token = portal.csrf("/login")
    cookies = dict(portal.client.cookies)
    codes = portal.call(_concurrent_logins, portal.app, cookies, token, 50)
    assert sorted(codes).count(400) == sessions.MAX_FAILURES_PER_EMAIL
    assert codes.count(429) == 50 - sessions.MAX_FAILURES_PER_EMAIL
    hits = portal.rows(
        "SELECT COUNT(*) AS n FROM throttle_hits WHERE key = :k",
        {"k": f"login:email:{demo.PARENT_EMAIL}"},
    )
    assert hits[0].n == sessions.MAX_FAILURES_PER_EMAIL


def test_guessing_from_many_addresses_never_locks_the_owner_out(settings, clock, mailbox):
    with running_portal(
        settings, clock, mailbox, peer="10.0.0.5", forwarded_allow_ips="*"
    ) as portal:
        # A botnet: a new address for every guess, each guess as soon as it is let in.
        waits = []
        for n in range(40):
            while (
                response := login_from(portal, f"203.0.113.{n}", password="guess")
            ).status_code == 429:
                assert "Too many attempts" in response.text
                waits.append(int(response.headers["retry-after"]))
                clock.advance(seconds=waits[-1])
            assert response.status_code == 400
        # The delay grew per failure, and stopped growing at its cap.
        assert (
            waits[:4] == [1, 2, 4, 8] and max(waits) == sessions.MAX_ACCOUNT_DELAY.total_seconds()
        )
        # The owner, from home, right after the last guess: a short wait, never 15 minutes.
        first = login_from(portal, "192.0.2.10")
        assert first.status_code == 429
        wait = int(first.headers["retry-after"])
        assert wait <= sessions.MAX_ACCOUNT_DELAY.total_seconds()
        assert f"Wait {wait} seconds" in first.text
        clock.advance(seconds=wait)
        assert login_from(portal, "192.0.2.10").status_code == 303


def test_the_account_delay_doubles_per_failure_and_is_capped():
    free = sessions.FREE_FAILURES_PER_ACCOUNT
    assert sessions.account_delay(free - 1).total_seconds() == 0
    assert [sessions.account_delay(free + n).total_seconds() for n in range(4)] == [1, 2, 4, 8]
    assert sessions.account_delay(free + 50) == sessions.MAX_ACCOUNT_DELAY


def test_the_guessing_address_itself_waits_the_whole_window(settings, clock, mailbox):
    with running_portal(
        settings, clock, mailbox, peer="10.0.0.5", forwarded_allow_ips="*"
    ) as portal:
        for n in range(sessions.MAX_FAILURES_PER_EMAIL):
            clock.advance(minutes=1)  # slow enough that the account delay never applies
            assert login_from(portal, "203.0.113.1", password=f"guess-{n}").status_code == 400
        clock.advance(minutes=1)
        assert login_from(portal, "203.0.113.1").status_code == 429
        assert login_from(portal, "192.0.2.10").status_code == 303  # the owner, elsewhere


def _botnet_guess(portal, clock, n: int) -> None:
    """One wrong guess from a new address, sent the moment the account lets one in."""
    while (response := login_from(portal, f"203.0.113.{n}", password="guess")).status_code == 429:
        clock.advance(seconds=int(response.headers["retry-after"]))
    assert response.status_code == 400


def test_a_browser_that_logged_in_before_is_not_held_back_by_a_relentless_botnet(
    settings, clock, mailbox
):
    with running_portal(
        settings, clock, mailbox, peer="10.0.0.5", forwarded_allow_ips="*"
    ) as portal:
        assert login_from(portal, "192.0.2.10").status_code == 303
        device = portal.client.cookies.get(sessions.DEVICE_COOKIE)
        assert device
        portal.client.cookies.clear()  # the owner's browser steps aside; the botnet has none
        for n in range(30):
            _botnet_guess(portal, clock, n)
        # Right after a guess, the account-wide delay is running for every stranger...
        assert login_from(portal, "192.0.2.99").status_code == 429
        # ...but not for the owner's own browser, from home or from anywhere else.
        portal.client.cookies.set(sessions.DEVICE_COOKIE, device)
        assert login_from(portal, "198.51.100.1").status_code == 303


def test_a_device_cookie_helps_only_the_account_it_was_made_for(settings, clock, mailbox):
    with running_portal(
        settings, clock, mailbox, peer="10.0.0.5", forwarded_allow_ips="*"
    ) as portal:
        assert login_from(portal, "192.0.2.10").status_code == 303
        device = portal.client.cookies.get(sessions.DEVICE_COOKIE)
        portal.client.cookies.clear()
        for n in range(10):
            while (
                response := login_from(
                    portal, f"203.0.113.{n}", email=demo.SECOND_PARENT_EMAIL, password="x"
                )
            ).status_code == 429:
                clock.advance(seconds=int(response.headers["retry-after"]))
        for cookie in (device, device.split(".")[0] + ".forged", "garbage"):
            portal.client.cookies.set(sessions.DEVICE_COOKIE, cookie)
            response = login_from(
                portal,
                "198.51.100.1",
                email=demo.SECOND_PARENT_EMAIL,
                password=demo.SECOND_PARENT_PASSWORD,
            )
            assert response.status_code == 429


def test_a_trusted_device_that_guesses_waits_out_the_window_itself(settings, clock, mailbox):
    with running_portal(
        settings, clock, mailbox, peer="10.0.0.5", forwarded_allow_ips="*"
    ) as portal:
        assert login_from(portal, "192.0.2.10").status_code == 303
        portal.client.cookies.delete(sessions.SESSION_COOKIE)
        for n in range(sessions.MAX_FAILURES_PER_EMAIL):
            # A new address each time: the device, not the address, is what is counted.
            assert login_from(portal, f"198.51.100.{n}", password="wrong").status_code == 400
        assert login_from(portal, "198.51.100.77").status_code == 429


# --- 7. rehash on login ----------------------------------------------------------------------


def _hash_params(password_hash: str) -> str:
    return password_hash.split("$")[3]  # m=...,t=...,p=...


def test_a_hash_made_with_weaker_parameters_is_upgraded_at_the_next_login(portal):
    weak = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    portal.call(_set_hash, portal, demo.PARENT_EMAIL, weak.hash(demo.PARENT_PASSWORD))
    [before] = portal.rows(
        "SELECT password_hash, password_changed_at FROM accounts WHERE email = :e",
        {"e": demo.PARENT_EMAIL},
    )
    assert _hash_params(before.password_hash) == "m=64,t=1,p=1"

    assert login_from(portal, password="not-the-password").status_code == 400
    [unchanged] = portal.rows(
        "SELECT password_hash FROM accounts WHERE email = :e", {"e": demo.PARENT_EMAIL}
    )
    assert unchanged.password_hash == before.password_hash  # a wrong password upgrades nothing

    assert login_from(portal).status_code == 303
    [after] = portal.rows(
        "SELECT password_hash, password_changed_at FROM accounts WHERE email = :e",
        {"e": demo.PARENT_EMAIL},
    )
    assert not passwords.needs_rehash(after.password_hash)
    assert _hash_params(after.password_hash) != "m=64,t=1,p=1"
    assert after.password_changed_at == before.password_changed_at  # not a password change
    portal.client.cookies.clear()
    assert login_from(portal).status_code == 303


async def _set_hash(portal, email, password_hash):
    async with portal.ctx.db.write() as conn:
        await conn.execute(
            "UPDATE accounts SET password_hash = :h WHERE email = :e",
            {"h": password_hash, "e": email},
        )


# --- 19. sessions end after SESSION_DAYS without use, and at SESSION_MAX_DAYS at most --------


def logged_in(portal) -> bool:
    return portal.client.get("/account/settings", follow_redirects=False).status_code == 200


def last_seen(portal) -> str:
    [session] = portal.rows("SELECT last_seen_at FROM sessions")
    return session.last_seen_at


def test_a_session_in_use_outlives_session_days(parent, clock):
    days = parent.ctx.settings.session_days
    for _ in range(2):
        clock.advance(days=days - 1)
        assert logged_in(parent)
    assert 2 * (days - 1) > days


def test_a_session_ends_session_days_after_its_last_use_exactly(parent, clock):
    days = parent.ctx.settings.session_days
    clock.advance(days=3)
    assert logged_in(parent)  # a use, three days in
    clock.advance(days=days, microseconds=-1)
    assert logged_in(parent)  # alive up to the last microsecond; and this is a use again
    clock.advance(days=days)
    assert not logged_in(parent)  # SESSION_DAYS after that use, exactly


def test_a_session_used_every_day_still_ends_at_session_max_days(parent, clock):
    settings = parent.ctx.settings
    assert settings.session_max_days > settings.session_days
    for _ in range(settings.session_max_days - 1):
        clock.advance(days=1)
        assert logged_in(parent)
    clock.advance(days=1, microseconds=-1)
    assert logged_in(parent)
    clock.advance(microseconds=1)
    assert not logged_in(parent)
    assert parent.client.cookies.get(sessions.SESSION_COOKIE)  # the server decided, not the cookie


def test_browsing_records_a_use_at_most_once_an_hour(parent, clock):
    at_login = last_seen(parent)
    clock.advance(minutes=59)
    assert logged_in(parent)
    assert last_seen(parent) == at_login  # no write for every page
    clock.advance(minutes=1)
    assert logged_in(parent)
    assert last_seen(parent) > at_login


def test_the_session_cookie_lasts_until_the_absolute_end(portal):
    response = login_from(portal)
    max_age = portal.ctx.settings.session_max_days * 86400
    assert f"max-age={max_age}" in response.headers["set-cookie"].lower()


def test_session_days_cannot_exceed_session_max_days():
    with pytest.raises(SettingsError):
        Settings.from_mapping({"SESSION_DAYS": "40", "SESSION_MAX_DAYS": "30"})


def test_a_form_too_large_is_refused_with_413_and_a_roster_file_may_be_larger(portal):
    from staff_steps import login_as

    login_as(portal, "admin")
    token = portal.csrf("/staff/import")
    big_form = portal.client.post(
        "/staff/people/1", data={"csrf_token": token, "note": "x" * 1_100_000}
    )
    assert big_form.status_code == 413 and "Nothing was saved" in big_form.text
    header = "family,kind,first_name,last_name,email,cell_phone,texting,consent_note\n"
    rows = "".join(f"F{n},student,K{n},F{n},,,,\n" for n in range(40_000))  # about 1.1 MB
    upload = portal.client.post(
        "/staff/import",
        data={"csrf_token": token},
        files={"file": ("roster.csv", (header + rows).encode(), "text/csv")},
    )
    assert upload.status_code == 200 and "would import 40000 people" in upload.text


def test_every_post_route_refuses_a_form_without_its_token_or_signature(portal):
    """A new POST route is protected without anyone remembering to: walk them all."""
    from staff_steps import login_as
    from starlette.routing import Route

    login_as(portal, "admin")
    checked = 0
    for route in portal.app.routes:
        if not isinstance(route, Route) or "POST" not in (route.methods or ()):
            continue
        path = re.sub(r"\{[^}]+\}", "1", route.path)
        response = portal.client.post(path, data={"answer": "yes", "note": "x"})
        assert response.status_code == 403, f"{route.name} answered {response.status_code}"
        checked += 1
    assert checked > 40


def test_no_get_of_any_page_changes_anything(portal):
    """Mail scanners and prefetchers open links: walk every GET route, logged in as an admin,
    and the data (sessions aside, which record their use) is the same before and after."""
    from staff_steps import login_as
    from starlette.routing import Route

    tables = [name for name in portal.table_names() if name not in {"sessions", "throttle_hits"}]

    def snapshot() -> dict:
        # Ordered: PostgreSQL returns rows in no fixed order without it.
        return {
            table: sorted(map(repr, portal.rows(f"SELECT * FROM {table}")))  # noqa: S608
            for table in tables
        }

    login_as(portal, "admin")
    before = snapshot()
    visited = 0
    for route in portal.app.routes:
        if not isinstance(route, Route) or "GET" not in (route.methods or ()):
            continue
        path = re.sub(r"\{phone\}", "+12015550101", route.path)
        path = re.sub(r"\{[^}]+\}", "1", path)
        portal.client.get(path)
        visited += 1
    assert visited > 40 and snapshot() == before
