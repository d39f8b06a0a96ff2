"""The demo organization of DESIGN.md section 4: two families and a staff admin."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portal.accounts import passwords
from portal.clock import to_db
from portal.consent import commands
from portal.consent.rules import Actor, Channel
from portal.db import accounts as account_rows
from portal.db import organization as org_rows
from portal.db import people as people_rows

if TYPE_CHECKING:
    from portal.context import PortalContext

DEMO_DOMAIN = "demo.example"
PARENT_EMAIL = f"parent@{DEMO_DOMAIN}"
PARENT_PASSWORD = "demo-parent-password"
SECOND_PARENT_EMAIL = f"lee@{DEMO_DOMAIN}"
SECOND_PARENT_PASSWORD = "demo-lee-password"
STAFF_EMAIL = f"staff@{DEMO_DOMAIN}"
STAFF_PASSWORD = "demo-staff-password"
ORG_PHONE = "+12015550100"


class RefusedDemo(Exception):
    """The database holds real data: demo data must never mix with it."""


async def load(ctx: PortalContext) -> bool:
    """Load the demo data; False if it is already there. Raises RefusedDemo on real data."""
    now = to_db(ctx.now())
    evidence = {"note": "demo data: registration form"}
    system = Actor(kind="system", label="portal demo")
    async with ctx.db.write() as conn:
        if await account_rows.count_real(conn, DEMO_DOMAIN) or (
            await people_rows.count(conn) and not await account_rows.by_email(conn, PARENT_EMAIL)
        ):
            raise RefusedDemo("this database already holds real data; demo data is not loaded")
        if await account_rows.by_email(conn, PARENT_EMAIL):
            return False
        await org_rows.ensure(
            conn,
            name="Riverside Dance Academy",
            email=f"office@{DEMO_DOMAIN}",
            phone=ORG_PHONE,
            now=now,
        )
        await org_rows.update(
            conn,
            name="Riverside Dance Academy",
            email=f"office@{DEMO_DOMAIN}",
            phone=ORG_PHONE,
            now=now,
        )
        ctx.organization_name = "Riverside Dance Academy"  # page headers show the new name

        parker = await people_rows.create_family(conn, name="Parker", now=now)
        pat = await people_rows.create(
            conn,
            family_id=parker,
            kind="contact",
            first_name="Pat",
            last_name="Parker",
            email=PARENT_EMAIL,
            cell_phone="+12015550101",
            is_account_holder=True,
            now=now,
        )
        await people_rows.create(
            conn,
            family_id=parker,
            kind="contact",
            first_name="Jordan",
            last_name="Parker",
            email=f"jordan@{DEMO_DOMAIN}",
            cell_phone="+12015550102",
            now=now,
        )
        avery = await people_rows.create(
            conn,
            family_id=parker,
            kind="student",
            first_name="Avery",
            last_name="Parker",
            email=None,
            cell_phone="+12015550103",
            now=now,
        )
        await people_rows.create(
            conn,
            family_id=parker,
            kind="student",
            first_name="Sam",
            last_name="Parker",
            email=None,
            cell_phone=None,
            now=now,
        )
        await account_rows.create(
            conn,
            email=PARENT_EMAIL,
            password_hash=passwords.hash_password(PARENT_PASSWORD),
            role="family",
            person_id=pat,
            display_name="Pat Parker",
            now=now,
        )

        lee = await people_rows.create_family(conn, name="Lee", now=now)
        morgan = await people_rows.create(
            conn,
            family_id=lee,
            kind="contact",
            first_name="Morgan",
            last_name="Lee",
            email=SECOND_PARENT_EMAIL,
            cell_phone="+12015550111",
            is_account_holder=True,
            now=now,
        )
        casey = await people_rows.create(
            conn,
            family_id=lee,
            kind="student",
            first_name="Casey",
            last_name="Lee",
            email=None,
            cell_phone="+12015550112",
            now=now,
        )
        await account_rows.create(
            conn,
            email=SECOND_PARENT_EMAIL,
            password_hash=passwords.hash_password(SECOND_PARENT_PASSWORD),
            role="family",
            person_id=morgan,
            display_name="Morgan Lee",
            now=now,
        )

        await account_rows.create(
            conn,
            email=STAFF_EMAIL,
            password_hash=passwords.hash_password(STAFF_PASSWORD),
            role="staff",
            staff_role="admin",
            person_id=None,
            display_name="Office Admin",
            can_text=True,
            now=now,
        )

        # Opt-ins with their evidence, through the one write path like any other.
        for person_id in (pat, avery, morgan, casey):
            await commands.set_texting(
                conn,
                ctx,
                person_id=person_id,
                allow=True,
                channel=Channel.IMPORT,
                actor=system,
                evidence=evidence,
                # The demo families agreed before the portal existed: no confirmation now.
                confirm_by_text=False,
            )
    return True
