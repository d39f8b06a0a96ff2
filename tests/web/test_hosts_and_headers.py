"""Allowed hosts from PUBLIC_URL, and the security headers on every answer the portal gives."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import re

import pytest
from conftest import PUBLIC_URL, PortalDriver
from staff_steps import login_as
from starlette.routing import Route
from starlette.testclient import TestClient

from portal.app import create_app
from portal.db import Database, migrate
from portal.people import demo

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)|\son[a-z]+\s*=\s*[\"']", re.IGNORECASE)


async def _migrate(url: str) -> None:
    database = Database(url)
    await database.connect()
    try:
        await migrate.apply(database)
    finally:
        await database.disconnect()


@contextlib.contextmanager
def serving(settings, clock, mailbox, **changes):
    """The real app with some settings changed (production needs its migrations first)."""
    settings = dataclasses.replace(settings, **changes)
    if settings.environment == "production":
        asyncio.run(_migrate(settings.database_url))
    app = create_app(settings, clock=clock, start_dispatcher=False)
    with TestClient(app, base_url=settings.public_url) as client:
        driver = PortalDriver(client, app, mailbox)
        driver.call(demo.load, app.state.ctx)
        yield driver


def status_for_host(portal, path: str, host: str) -> int:
    return portal.client.get(path, headers={"Host": host}).status_code


@pytest.mark.parametrize(
    "host", ["evil.example", "portal.test.evil.example", "127.0.0.1:8000", "localhost", ""]
)
def test_in_production_a_host_that_is_not_public_urls_gets_400(settings, clock, mailbox, host):
    with serving(settings, clock, mailbox, environment="production") as portal:
        response = portal.client.get("/login", headers={"Host": host})
        assert response.status_code == 400
        assert response.headers["x-content-type-options"] == "nosniff"
        assert status_for_host(portal, "/login", "PORTAL.test") == 200
        assert status_for_host(portal, "/login", "portal.test:443") == 200


def test_a_load_balancer_may_ask_for_health_by_the_instances_own_address(settings, clock, mailbox):
    with serving(settings, clock, mailbox, environment="production") as portal:
        assert status_for_host(portal, "/healthz", "10.0.0.5:8000") == 200
        assert status_for_host(portal, "/healthz/", "10.0.0.5:8000") == 400


@pytest.mark.parametrize("host", ["127.0.0.1:8123", "localhost:8123", "[::1]:8123", "portal.test"])
def test_in_development_loopback_names_are_served_too(portal, host):
    assert status_for_host(portal, "/login", host) == 200


def test_in_development_another_name_is_still_refused(portal):
    # DNS rebinding: a page at evil.example whose name now points at the developer's machine.
    assert status_for_host(portal, "/login", "evil.example:8000") == 400


def test_an_emailed_link_is_built_from_public_url_never_from_the_host_header(portal):
    base = "http://localhost:8123"
    token = portal.csrf(f"{base}/forgot-password")
    response = portal.client.post(
        f"{base}/forgot-password", data={"email": demo.PARENT_EMAIL, "csrf_token": token}
    )
    assert response.status_code == 200
    [mail] = portal.deliver()
    assert f"{PUBLIC_URL}/reset-password/" in mail.text and "localhost" not in mail.text


def check_headers(response, what: str) -> None:
    csp = response.headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp, what
    assert "unsafe-inline" not in csp and "script-src" not in csp, what  # scripts: 'self' only
    assert response.headers.get("x-content-type-options") == "nosniff", what
    assert response.headers.get("x-frame-options") == "DENY", what


def test_every_answer_carries_the_security_headers_and_no_page_has_inline_script(portal):
    """Walk every GET route as an admin, then the answers no route gives: static files, not
    found, refused forms and webhooks, a foreign host, the health check."""
    login_as(portal, "admin")
    walked = 0
    for route in portal.app.routes:
        if not isinstance(route, Route) or "GET" not in (route.methods or ()):
            continue
        path = re.sub(r"\{phone\}", "+12015550101", route.path)
        path = re.sub(r"\{[^}]+\}", "1", path)
        response = portal.client.get(path)
        check_headers(response, path)
        if response.headers.get("content-type", "").startswith("text/html"):
            assert not INLINE_SCRIPT.search(response.text), f"inline script on {path}"
        walked += 1
    assert walked > 40
    others = {
        "static": portal.client.get("/static/portal.css"),
        "missing static": portal.client.get("/static/nothing.css"),
        "not found": portal.client.get("/no-such-page"),
        "form without token": portal.client.post("/account/settings", data={}),
        "unsigned webhook": portal.client.post("/webhooks/twilio/sms", data={"Body": "STOP"}),
        "foreign host": portal.client.get("/login", headers={"Host": "evil.example"}),
        "health": portal.client.get("/healthz"),
    }
    assert [r.status_code for r in others.values()] == [200, 404, 404, 403, 403, 400, 200]
    for what, response in others.items():
        check_headers(response, what)
