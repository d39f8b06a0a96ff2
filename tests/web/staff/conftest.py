"""Staff console fixtures: a read-only staff login."""

from __future__ import annotations

import pytest

from portal.accounts import passwords
from portal.clock import to_db
from portal.db import accounts as account_rows

VIEWER_EMAIL = "viewer@staff.example"
VIEWER_PASSWORD = "viewer-password-for-tests"


@pytest.fixture
def viewer(portal):
    """A staff login with the viewer role (looks, changes nothing), logged in."""

    async def create():
        async with portal.ctx.db.write() as conn:
            await account_rows.create(
                conn,
                email=VIEWER_EMAIL,
                password_hash=passwords.hash_password(VIEWER_PASSWORD),
                role="staff",
                staff_role="viewer",
                person_id=None,
                display_name="Viewer",
                now=to_db(portal.ctx.now()),
            )

    portal.call(create)
    response = portal.login(VIEWER_EMAIL, VIEWER_PASSWORD)
    assert response.status_code == 200
    return portal
