"""Staff logins: admins invite, change roles, disable and enable; one admin always remains."""

from __future__ import annotations

import re

from portal.accounts import passwords
from portal.clock import to_db
from portal.db import accounts as account_rows
from portal.people import demo

PASSWORD = "a-staff-password-1"
NEW_EMAIL = "riley@riverside.example"


def make_staff(portal, email: str, staff_role: str) -> int:
    async def work():
        async with portal.ctx.db.write() as conn:
            return await account_rows.create(
                conn,
                email=email,
                password_hash=passwords.hash_password(PASSWORD),
                role="staff",
                staff_role=staff_role,
                person_id=None,
                display_name=f"{staff_role.title()} Staff",
                now=to_db(portal.ctx.now()),
            )

    return portal.call(work)


def login_row(portal, email: str):
    return portal.rows(
        "SELECT id, staff_role, disabled, password_hash FROM accounts WHERE email = :e",
        {"e": email},
    )[0]


def actions(portal) -> list[str]:
    return [r.action for r in portal.rows("SELECT action FROM staff_actions ORDER BY id")]


def as_admin(portal):
    portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    return portal


def invite(portal, email: str = NEW_EMAIL, role: str = "texting"):
    return portal.post("/staff/accounts", {"email": email, "name": "Riley Reed", "role": role})


def update(portal, account_id: int, **form):
    return portal.post(f"/staff/accounts/{account_id}", form, token_from="/staff/accounts")


def invitation_link(portal, email: str) -> str:
    [mail] = [m for m in portal.deliver() if m.to == [email]]
    return re.search(r"http://portal\.test(/invite/\S+)", mail.text).group(1)


def test_an_invited_staff_login_works_once_its_owner_chooses_a_password(portal):
    as_admin(portal)
    page = invite(portal)
    assert page.status_code == 200 and "We emailed a link" in page.text
    assert "Riley Reed" in page.text and "Invited: no password yet" in page.text
    link = invitation_link(portal, NEW_EMAIL)
    portal.post("/logout", {}, token_from="/staff/")
    # Before the link is used, nothing logs in.
    assert portal.login(NEW_EMAIL, "").url.path == "/login"
    assert "Create your login" in portal.client.get(link).text
    done = portal.post(link, {"password": PASSWORD, "password_again": PASSWORD})
    assert done.status_code == 200 and "Your login is ready" in done.text
    assert portal.login(NEW_EMAIL, PASSWORD).url.path == "/staff/"
    assert portal.client.get("/staff/alerts").status_code == 200
    assert portal.client.get("/staff/accounts").status_code == 403  # texting, not admin
    # The link works once.
    assert "already used" in portal.client.get(link).text


def test_a_staff_invitation_sets_only_that_logins_password_and_makes_no_other_login(portal):
    as_admin(portal)
    invite(portal)
    link = invitation_link(portal, NEW_EMAIL)
    before = {r.email: r.password_hash for r in portal.rows("SELECT * FROM accounts")}
    portal.post(link, {"password": PASSWORD, "password_again": PASSWORD})
    after = {r.email: r.password_hash for r in portal.rows("SELECT * FROM accounts")}
    assert after.keys() == before.keys()
    assert [email for email in after if after[email] != before[email]] == [NEW_EMAIL]
    row = portal.rows(
        "SELECT role, staff_role, person_id FROM accounts WHERE email = :e", {"e": NEW_EMAIL}
    )[0]
    assert (row.role, row.staff_role, row.person_id) == ("staff", "texting", None)


def test_a_disabled_invited_login_cannot_use_its_invitation(portal):
    as_admin(portal)
    invite(portal)
    link = invitation_link(portal, NEW_EMAIL)
    update(portal, login_row(portal, NEW_EMAIL).id, action="disable")
    refused = portal.post(link, {"password": PASSWORD, "password_again": PASSWORD})
    assert "no longer valid" in refused.text
    assert login_row(portal, NEW_EMAIL).password_hash == ""


def test_an_admin_can_email_a_new_invitation_link(portal):
    as_admin(portal)
    invite(portal)
    portal.deliver()
    page = update(portal, login_row(portal, NEW_EMAIL).id, action="invite")
    assert "We emailed a new link" in page.text
    assert invitation_link(portal, NEW_EMAIL).startswith("/invite/")
    assert actions(portal) == ["staff_login.created", "staff_login.invitation_sent"]


def test_creating_a_login_refuses_a_taken_email_and_a_bad_role(portal):
    as_admin(portal)
    taken = invite(portal, email=demo.PARENT_EMAIL)
    assert taken.status_code == 400 and "already has a login" in taken.text
    bad = invite(portal, role="owner")
    assert bad.status_code == 400 and "Choose a role" in bad.text
    assert (
        portal.rows("SELECT COUNT(*) AS n FROM accounts WHERE email = :e", {"e": NEW_EMAIL})[0].n
        == 0
    )
    assert actions(portal) == []


def test_an_admin_changes_a_role_and_the_audit_trail_records_it(portal):
    viewer = make_staff(portal, "viewer@staff.example", "viewer")
    as_admin(portal)
    page = update(portal, viewer, action="role", role="texting")
    assert page.status_code == 200 and "Role saved" in page.text
    assert login_row(portal, "viewer@staff.example").staff_role == "texting"
    [row] = portal.rows("SELECT * FROM staff_actions")
    assert (row.action, row.subject_kind, row.subject_id) == (
        "staff_login.role_changed",
        "account",
        viewer,
    )
    assert '"old": "viewer"' in row.details and '"new": "texting"' in row.details


def test_disabling_a_login_ends_its_sessions_and_enabling_lets_it_log_in_again(portal):
    texting = make_staff(portal, "texting@staff.example", "texting")
    portal.login("texting@staff.example", PASSWORD)
    their_cookies = dict(portal.client.cookies)
    portal.client.cookies.clear()
    as_admin(portal)
    page = update(portal, texting, action="disable")
    assert "Login disabled" in page.text
    assert (
        portal.rows("SELECT COUNT(*) AS n FROM sessions WHERE account_id = :a", {"a": texting})[0].n
        == 0
    )
    admin_cookies = dict(portal.client.cookies)
    portal.client.cookies.clear()
    portal.client.cookies.update(their_cookies)
    assert portal.client.get("/staff/", follow_redirects=False).status_code == 303
    assert portal.login("texting@staff.example", PASSWORD).url.path == "/login"
    portal.client.cookies.clear()
    portal.client.cookies.update(admin_cookies)
    assert "Login enabled" in update(portal, texting, action="enable").text
    portal.client.cookies.clear()
    assert portal.login("texting@staff.example", PASSWORD).url.path == "/staff/"
    assert actions(portal) == ["staff_login.disabled", "staff_login.enabled"]


def test_the_only_admin_can_neither_step_down_nor_disable_themselves(portal):
    me = login_row(portal, demo.STAFF_EMAIL).id
    as_admin(portal)
    demote = update(portal, me, action="role", role="viewer")
    assert demote.status_code == 400 and "the only admin" in demote.text
    disable = update(portal, me, action="disable")
    assert disable.status_code == 400 and "the only admin" in disable.text
    row = login_row(portal, demo.STAFF_EMAIL)
    assert (row.staff_role, row.disabled) == ("admin", 0)
    assert actions(portal) == []


def test_an_invited_admin_without_a_password_does_not_count_as_the_admin_who_remains(portal):
    me = login_row(portal, demo.STAFF_EMAIL).id
    as_admin(portal)
    invite(portal, role="admin")
    assert update(portal, me, action="role", role="texting").status_code == 400
    assert login_row(portal, demo.STAFF_EMAIL).staff_role == "admin"


def test_with_another_admin_an_admin_may_step_down(portal):
    make_staff(portal, "second@staff.example", "admin")
    me = login_row(portal, demo.STAFF_EMAIL).id
    as_admin(portal)
    done = update(portal, me, action="role", role="viewer")
    assert done.status_code == 200 and done.url.path == "/staff/"
    assert login_row(portal, demo.STAFF_EMAIL).staff_role == "viewer"
    assert portal.client.get("/staff/accounts").status_code == 403
    # The admin left is now the only one, and is protected the same way.
    portal.post("/logout", {}, token_from="/staff/")
    portal.login("second@staff.example", PASSWORD)
    second = login_row(portal, "second@staff.example").id
    assert update(portal, second, action="disable").status_code == 400


def test_a_viewer_and_a_texting_login_change_nothing_about_staff_logins(portal):
    target = make_staff(portal, "viewer@staff.example", "viewer")
    make_staff(portal, "texting@staff.example", "texting")
    for email in ("viewer@staff.example", "texting@staff.example"):
        portal.client.cookies.clear()
        portal.login(email, PASSWORD)
        assert portal.client.get("/staff/accounts").status_code == 403
        token = portal.csrf("/staff/")
        for path, form in (
            ("/staff/accounts", {"email": NEW_EMAIL, "name": "X Y", "role": "admin"}),
            (f"/staff/accounts/{target}", {"action": "role", "role": "admin"}),
            (f"/staff/accounts/{target}", {"action": "disable"}),
            (f"/staff/accounts/{target}", {"action": "invite"}),
        ):
            response = portal.client.post(path, data={**form, "csrf_token": token})
            assert response.status_code == 403, (email, path, form)
    assert login_row(portal, "viewer@staff.example").staff_role == "viewer"
    assert portal.rows("SELECT COUNT(*) AS n FROM accounts")[0].n == 5
    assert actions(portal) == []


def test_a_parent_reaches_no_staff_login_page(parent):
    assert parent.client.get("/staff/accounts").status_code == 403
    token = parent.csrf("/account/settings")
    response = parent.client.post(
        "/staff/accounts",
        data={"email": NEW_EMAIL, "name": "X Y", "role": "admin", "csrf_token": token},
    )
    assert response.status_code == 403


def test_a_login_that_is_not_staff_cannot_be_changed_here(portal):
    parent_login = login_row(portal, demo.PARENT_EMAIL).id
    as_admin(portal)
    assert update(portal, parent_login, action="disable").status_code == 404
    assert login_row(portal, demo.PARENT_EMAIL).disabled == 0
