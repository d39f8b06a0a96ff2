"""Journey: STOP from the demo parent's phone in /dev/phone, then START, as a newcomer would."""

from __future__ import annotations


def send_from_phone(portal, number: str, body: str):
    return portal.post("/dev/phone", {"from": number, "body": body})


def test_stop_from_the_fake_phone_confirms_tells_the_office_and_shows_in_the_portal(parent):
    response = send_from_phone(parent, "(201) 555-0101", "STOP")
    assert response.status_code == 200 and "Sent." in response.text

    mails = parent.deliver()
    phone = parent.client.get("/dev/phone").text
    assert "You are unsubscribed and will get no more texts from us" in phone
    [office] = [m for m in mails if m.to == ["office@demo.example"]]
    assert office.subject == "Text messaging opt-out: •••-•••-0101 replied STOP (Pat Parker)"
    settings = parent.client.get("/account/settings").text
    assert "This number replied STOP. Text START to (201) 555-0100 to receive texts again." in (
        settings
    )

    send_from_phone(parent, "(201) 555-0101", "START")
    parent.deliver()
    assert "You are subscribed to texts again" in parent.client.get("/dev/phone").text
    assert "Texts allowed" in parent.client.get("/account/settings").text


def test_the_fake_phone_form_needs_a_csrf_token_like_every_form(portal):
    response = portal.client.post("/dev/phone", data={"from": "2015550101", "body": "STOP"})
    assert response.status_code == 403
    assert portal.rows("SELECT COUNT(*) AS n FROM inbound_messages")[0].n == 0


def test_dev_pages_do_not_exist_in_production(tmp_path, smtp_server):
    from starlette.testclient import TestClient

    from portal.app import create_app
    from portal.db import migrate as db_migrate
    from portal.settings import Settings

    settings = Settings.from_mapping(
        {
            "ENVIRONMENT": "production",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
            "SECRET_KEY": "a-production-secret-key-of-enough-length-0123",
            "SMTP_HOST": smtp_server.host,
            "SMTP_PORT": str(smtp_server.port),
            "SMTP_TLS": "none",
        }
    )
    app = create_app(settings, start_dispatcher=False)

    async def apply_migrations():
        await app.state.ctx.db.connect()
        await db_migrate.apply(app.state.ctx.db)
        await app.state.ctx.db.disconnect()

    import asyncio

    asyncio.run(apply_migrations())
    with TestClient(app, base_url=settings.public_url) as client:
        assert client.get("/dev/phone").status_code == 404
        assert client.get("/dev/mailbox").status_code == 404
        # Without Twilio settings no signature can match: webhooks refuse everything.
        assert client.post("/webhooks/twilio/sms", data={"Body": "STOP"}).status_code == 403
