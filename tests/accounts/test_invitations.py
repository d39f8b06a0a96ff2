"""Portal invitations: a parent invites another contact, who creates their own login once."""

from __future__ import annotations

import re

INVITE_RE = re.compile(r"http://portal\.test(/invite/[A-Za-z0-9._\-]+)")


def invite_jordan(parent) -> str:
    jordan = parent.person_id("Jordan")
    response = parent.post(f"/account/contacts/{jordan}/invite", {}, token_from="/account/contacts")
    assert "Invitation sent" in response.text
    [mail] = parent.deliver()
    assert mail.to == ["jordan@demo.example"]
    parent.client.cookies.clear()
    return INVITE_RE.search(mail.text).group(1)


def test_an_invited_contact_chooses_a_password_once_and_can_log_in(parent):
    path = invite_jordan(parent)
    form = parent.client.get(path)
    assert "Create your login" in form.text
    done = parent.post(path, {"password": "jordans-new-pass", "password_again": "jordans-new-pass"})
    assert "Your login is ready" in done.text
    again = parent.post(
        path,
        {"password": "another-password", "password_again": "another-password"},
        token_from="/login",
    )
    assert "already used" in again.text
    assert parent.login("jordan@demo.example", "jordans-new-pass").url.path == "/account/settings"
    assert "Jordan" in parent.client.get("/account/settings").text


def test_a_contact_with_a_login_is_not_offered_an_invitation(parent):
    page = parent.client.get("/account/contacts")
    # The button names its person for a screen reader: "Invite to the portal: Jordan Parker".
    assert '<span class="visually-hidden">: Jordan Parker</span>' in page.text
    assert '<span class="visually-hidden">: Pat Parker</span>' not in page.text  # Pat logs in
    pat = parent.person_id("Pat")
    response = parent.post(f"/account/contacts/{pat}/invite", {}, token_from="/account/contacts")
    assert response.status_code == 400 and "already has a login" in response.text
    assert parent.deliver() == []


def test_another_familys_contact_cannot_be_invited(parent):
    morgan = parent.person_id("Morgan")
    response = parent.post(f"/account/contacts/{morgan}/invite", {}, token_from="/account/contacts")
    assert response.status_code == 404
    assert parent.deliver() == []


def test_an_invitation_token_is_not_a_password_reset_token(parent):
    path = invite_jordan(parent)
    token = path.rsplit("/", 1)[1]
    page = parent.client.get(f"/reset-password/{token}")
    assert page.status_code == 400 and "not valid" in page.text
