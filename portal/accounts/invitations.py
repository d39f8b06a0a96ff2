"""Portal invitations: a contact without a login gets an emailed link to choose a password."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portal.accounts import passwords
from portal.clock import to_db
from portal.db import Conn, Row
from portal.db import accounts as account_rows
from portal.db import people as people_rows
from portal.messaging import outbox

if TYPE_CHECKING:
    from portal.context import PortalContext


class CannotInvite(Exception):
    """Why this person cannot be invited, in words for the screen."""


async def invite(conn: Conn, ctx: PortalContext, *, person: Row, invited_by: str) -> None:
    if person.kind != "contact":
        raise CannotInvite("Only adult contacts can have a login.")
    if not person.email:
        raise CannotInvite(f"Add an email address for {person.first_name} first.")
    if not person.email_confirmed:
        # Whoever typed the address could take the login, and answer for this person.
        raise CannotInvite(
            f"{person.first_name}'s email address was changed by someone else. Ask the office"
            f" to confirm it with {person.first_name} before inviting them."
        )
    if await account_rows.by_person(conn, person.id) or await account_rows.by_email(
        conn, person.email
    ):
        raise CannotInvite(f"{person.first_name} already has a login.")
    link = await ctx.invitation_links.issue(conn, person_id=person.id)
    await outbox.queue_email(
        conn,
        ctx,
        template="portal_invitation",
        to=person.email,
        person_id=person.id,
        person=person,
        invited_by=invited_by,
        link_url=ctx.url_for("auth.invite_form", token=link.token),
    )


async def accept(conn: Conn, ctx: PortalContext, *, link: Row, password: str) -> Row | None:
    """Create the login a checked invitation link was for. Returns the person (None for a
    staff login)."""
    if link.account_id is not None:
        await _accept_staff(conn, ctx, link=link, password=password)
        return None
    person = await people_rows.by_id(conn, link.person_id)
    if person is None or not person.email:
        raise CannotInvite("This invitation no longer matches a contact with an email.")
    if await account_rows.by_person(conn, person.id) or await account_rows.by_email(
        conn, person.email
    ):
        raise CannotInvite("A login already exists for this contact. Log in instead.")
    await account_rows.create(
        conn,
        email=person.email,
        password_hash=passwords.hash_password(password),
        role="family",
        person_id=person.id,
        display_name=f"{person.first_name} {person.last_name}",
        now=to_db(ctx.now()),
    )
    return person


async def _accept_staff(conn: Conn, ctx: PortalContext, *, link: Row, password: str) -> None:
    """A staff invitation (portal/accounts/staff.py) sets the password of the one login it was
    issued for, and only while that login is still a staff login waiting for one."""
    account = await account_rows.by_id(conn, link.account_id)
    if account is None or account.role != "staff" or account.disabled:
        raise CannotInvite("This invitation is no longer valid. Ask an admin for a new one.")
    if account.password_hash != account_rows.NO_PASSWORD:
        raise CannotInvite("This login already has a password. Log in instead.")
    await account_rows.set_password(
        conn, account.id, passwords.hash_password(password), to_db(ctx.now())
    )
