"""Staff logins managed by admins: invite, change role, disable and enable, never orphaning.

Each change runs inside the caller's write transaction and is written to the staff audit
trail (staff_actions) in that same transaction: a change without its record cannot happen.
The organization must always keep one admin who can act, or nobody could manage logins or
settings again without the command line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from portal.clock import to_db
from portal.db import Conn, Row, staff_actions
from portal.db import accounts as account_rows
from portal.messaging import outbox
from portal.validation import name_problem, normalize_email

if TYPE_CHECKING:
    from portal.context import PortalContext

# The roles, least to most (portal/web/access.py ranks them the same way).
ROLES = ("viewer", "texting", "admin")


class StaffRefused(Exception):
    """Why a staff-login change was refused, in words for the screen."""


def check_new_login(email: str, name: str, role: str) -> tuple[str, str, str]:
    """Cleaned (email, name, role) for a new staff login, or StaffRefused."""
    try:
        clean_email = normalize_email(email.strip()).lower()
    except ValueError as exc:
        raise StaffRefused(str(exc)) from exc
    problem = name_problem(name.strip())
    if problem:
        raise StaffRefused(f"Name: {problem}")
    if role not in ROLES:
        raise StaffRefused("Choose a role: admin, texting or viewer.")
    return clean_email, name.strip(), role


async def invite(
    conn: Conn, ctx: PortalContext, *, email: str, name: str, role: str, by: Row, ip: str
) -> int:
    """Create a staff login without a password and email its owner a link to choose one.
    The link is bound to this login alone (links.account_id): using it sets this login's
    password and nothing else."""
    email, name, role = check_new_login(email, name, role)
    if await account_rows.by_email(conn, email):
        raise StaffRefused(f"{email} already has a login.")
    account_id = await account_rows.create(
        conn,
        email=email,
        password_hash=account_rows.NO_PASSWORD,
        role="staff",
        staff_role=role,
        person_id=None,
        display_name=name,
        can_text=True,
        now=to_db(ctx.now()),
    )
    await _record(conn, ctx, by, "staff_login.created", account_id, ip, email=email, role=role)
    await _send_invitation(
        conn, ctx, account_id=account_id, email=email, name=name, role=role, by=by
    )
    return account_id


async def resend_invitation(
    conn: Conn, ctx: PortalContext, *, account_id: int, by: Row, ip: str
) -> None:
    """A new link for a login whose owner has not chosen a password yet (the first expired,
    or never arrived). Earlier links stay valid until one of them is used."""
    account = await _staff_login(conn, account_id)
    if account.password_hash != account_rows.NO_PASSWORD:
        raise StaffRefused(f"{account.display_name} already chose a password.")
    if account.disabled:
        raise StaffRefused(f"Enable {account.display_name}'s login first.")
    await _send_invitation(
        conn,
        ctx,
        account_id=account.id,
        email=account.email,
        name=account.display_name,
        role=account.staff_role,
        by=by,
    )
    await _record(conn, ctx, by, "staff_login.invitation_sent", account.id, ip, email=account.email)


async def change_role(
    conn: Conn, ctx: PortalContext, *, account_id: int, role: str, by: Row, ip: str
) -> bool:
    """Give a staff login another role. False when it already had it."""
    if role not in ROLES:
        raise StaffRefused("Choose a role: admin, texting or viewer.")
    account = await _staff_login(conn, account_id)
    if account.staff_role == role:
        return False
    if role != "admin":
        await _keep_an_admin(conn, account, "take the admin role from")
    await account_rows.set_staff_role(conn, account.id, role)
    await _record(
        conn, ctx, by, "staff_login.role_changed", account.id, ip, old=account.staff_role, new=role
    )
    return True


async def set_disabled(
    conn: Conn, ctx: PortalContext, *, account_id: int, disabled: bool, by: Row, ip: str
) -> bool:
    """Disable a login (its sessions end at once) or enable it again. False when no change."""
    account = await _staff_login(conn, account_id)
    if bool(account.disabled) == disabled:
        return False
    if disabled:
        await _keep_an_admin(conn, account, "disable")
    await account_rows.set_disabled(conn, account.id, disabled)
    if disabled:
        # Sessions are also refused for a disabled account at lookup; deleting them makes
        # sure an enable later does not bring an old session back.
        await account_rows.delete_sessions_of(conn, account.id)
    action = "staff_login.disabled" if disabled else "staff_login.enabled"
    await _record(conn, ctx, by, action, account.id, ip, email=account.email)
    return True


async def _staff_login(conn: Conn, account_id: int) -> Row:
    account = await account_rows.by_id(conn, account_id)
    if account is None or account.role != "staff":
        raise LookupError(account_id)
    return account


async def _keep_an_admin(conn: Conn, account: Row, verb: str) -> None:
    """Refuse a change that would leave no admin who can act (the acting admin included)."""
    admins = await account_rows.active_admins(conn)
    if admins == [account.id]:
        raise StaffRefused(
            f"{account.display_name} is the only admin. Make another login an admin"
            f" (and let them choose a password) before you {verb} {account.display_name}."
        )


async def _send_invitation(
    conn: Conn, ctx: PortalContext, *, account_id: int, email: str, name: str, role: str, by: Row
) -> None:
    link = await ctx.invitation_links.issue(conn, account_id=account_id)
    await outbox.queue_email(
        conn,
        ctx,
        template="staff_invitation",
        to=email,
        login_name=name,
        role=role,
        invited_by=by.display_name,
        link_url=ctx.url_for("auth.invite_form", token=link.token),
    )


async def _record(
    conn: Conn, ctx: PortalContext, by: Row, action: str, account_id: int, ip: str, **details
) -> None:
    await staff_actions.record(
        conn,
        account_id=by.id,
        action=action,
        subject_kind="account",
        subject_id=account_id,
        details=details,
        ip=ip,
        now=to_db(ctx.now()),
    )
