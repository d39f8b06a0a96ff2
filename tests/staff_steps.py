"""Steps shared by the staff console's tests: logins of each role, and reading the ledger."""

from __future__ import annotations

from portal.accounts import passwords
from portal.clock import to_db
from portal.consent import commands
from portal.consent.rules import Actor, Channel
from portal.db import accounts as account_rows
from portal.db import people as people_rows
from portal.people import demo

PASSWORD = "a-staff-password-for-tests"


def login_as(portal, role: str = "admin") -> None:
    """Log in as the demo admin, or as a new staff login with `role`."""
    portal.client.cookies.clear()
    if role == "admin":
        assert portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD).status_code == 200
        return
    email = f"{role}@staff.example"

    async def create():
        async with portal.ctx.db.write() as conn:
            if await account_rows.by_email(conn, email) is None:
                await account_rows.create(
                    conn,
                    email=email,
                    password_hash=passwords.hash_password(PASSWORD),
                    role="staff",
                    staff_role=role,
                    person_id=None,
                    display_name=f"{role.title()} Staff",
                    now=to_db(portal.ctx.now()),
                )

    portal.call(create)
    assert portal.login(email, PASSWORD).status_code == 200


def events_of(portal, first_name: str) -> list:
    return portal.rows(
        "SELECT e.id, e.old_status, e.new_status, e.channel, e.evidence, e.actor_label"
        " FROM consent_events e JOIN people p ON p.id = e.person_id WHERE p.first_name = :n"
        " ORDER BY e.id",
        {"n": first_name},
    )


def status_of(portal, first_name: str) -> str:
    rows = portal.rows(
        "SELECT s.status FROM consent_state s JOIN people p ON p.id = s.person_id"
        " WHERE p.first_name = :n",
        {"n": first_name},
    )
    return rows[0].status if rows else "none"


def receive_text(portal, phone: str, body: str, sid: str | None = None) -> None:
    """A text from a handset, handled by the same code the signed webhook runs."""
    import secrets

    from portal.messaging.providers import InboundText
    from portal.replies.inbound import handle_inbound

    text = InboundText(
        message_sid=sid or "SM" + secrets.token_hex(16), from_phone=phone, to_phone="", body=body
    )

    async def receive():
        async with portal.ctx.db.write() as conn:
            await handle_inbound(conn, portal.ctx, text)

    portal.call(receive)


def add_person(portal, first_name: str, phone: str | None, *, family: str = "Parker") -> int:
    """Another student of a family, opted in with evidence like the demo's own people when
    they have a phone."""

    async def add():
        ctx = portal.ctx
        async with ctx.db.write() as conn:
            family_id = await conn.fetch_val(
                "SELECT id FROM families WHERE name = :n", {"n": family}
            )
            person_id = await people_rows.create(
                conn,
                family_id=family_id,
                kind="student",
                first_name=first_name,
                last_name=family,
                email=None,
                cell_phone=phone,
                now=to_db(ctx.now()),
            )
            if phone:
                await commands.set_texting(
                    conn,
                    ctx,
                    person_id=person_id,
                    allow=True,
                    channel=Channel.IMPORT,
                    actor=Actor(kind="system", label="test"),
                    evidence={"note": "registration form"},
                    confirm_by_text=False,
                )
        return person_id

    return portal.call(add)


def wait_for_queueing(portal) -> None:
    """Wait until the mass texts being queued in the background are all queued."""
    queueing = getattr(portal.app.state, "mass_text_queueing", None)
    if queueing is not None:
        portal.call(queueing.join)
