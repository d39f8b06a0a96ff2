"""Staff roles: who reaches which part of the console, and a parent reaches none of it."""

from __future__ import annotations

import pytest

from portal.cli import main
from portal.people import demo
from portal.web.staff import nav


def test_a_parent_session_reaches_nothing_under_staff(parent):
    for name in ("staff.dashboard", "staff.people", "staff.messages"):
        path = parent.app.url_path_for(name)
        assert parent.client.get(path).status_code == 403


def test_the_demo_staff_login_is_an_admin_and_sees_every_area_it_may_open(portal):
    assert portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD).status_code == 200
    page = portal.client.get("/staff/people")
    assert page.status_code == 200
    for area in nav.AREAS:
        if area.route in {r.name for r in portal.app.routes if hasattr(r, "name")}:
            assert f">{area.label}" in page.text


@pytest.mark.parametrize("role", ["viewer", "texting", "admin"])
def test_create_staff_takes_a_role(tmp_path, monkeypatch, capsys, role):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'roles.sqlite3'}")
    monkeypatch.setattr("getpass.getpass", lambda prompt: "a-long-enough-password-1")
    assert main(["migrate"]) == 0
    assert main(["create-staff", "new@staff.example", "--role", role]) == 0
    assert f"staff login ({role}) created" in capsys.readouterr().out


def test_staff_may_ranks_the_roles():
    class Account:
        role = "staff"

        def __init__(self, staff_role):
            self.staff_role = staff_role

    from portal.web.access import staff_may

    assert staff_may(Account("admin"), "texting") and staff_may(Account("texting"), "viewer")
    assert not staff_may(Account("viewer"), "texting") and not staff_may(Account(""), "viewer")
