"""Nobody creates another adult's consent, and a save that leaves the switch alone changes none.

Each case here was an attack that got through (issue 8, items 1 and 2): a parent who rewrote
another adult's email to answer their Yes link, and a save that turned an opted-in adult back
into 'waiting'.
"""

from __future__ import annotations

import re

from conftest import CSRF_RE
from consent_link_steps import answer, consent_events, request_link_for_jordan, status_of

PARENTS_OWN = "pat.second.inbox@demo.example"
WAS_RE = re.compile(r'name="allow_texting_was" value="(on|off)"')


def jordan_yes(parent) -> None:
    """Jordan answers Yes from the real CLICK HERE email, then the parent logs back in."""
    path = request_link_for_jordan(parent)
    assert answer(parent, path, "yes").status_code == 200
    assert status_of(parent, "Jordan") == "opted_in"
    parent.deliver()  # the two confirmations of Jordan's answer
    parent.login()


def submit_as_shown(parent, first_name: str, **changes):
    """Open the edit form and submit it as a browser would: every field as shown (hidden ones
    included), with `changes` typed over it."""
    person_id = parent.person_id(first_name)
    path = f"/account/contacts/{person_id}/edit"
    page = parent.client.get(path).text
    form = {
        name: value
        for name, value in re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"', page)
    }
    if 'id="allow_texting" name="allow_texting" role="switch"\n          checked' in page:
        form["allow_texting"] = "on"
    form["csrf_token"] = CSRF_RE.search(page).group(1)
    form.update(changes)
    form = {k: v for k, v in form.items() if v is not None}
    return parent.client.post(path, data=form)


def test_a_parent_cannot_point_another_adults_yes_link_at_their_own_inbox(parent):
    before = consent_events(parent)
    response = parent.save_person("Jordan", allow_texting=True, email=PARENTS_OWN)
    assert response.status_code == 400
    assert "changed by someone else" in response.text
    mails = parent.deliver()
    assert [m for m in mails if PARENTS_OWN in m.to] == []
    assert consent_events(parent) == before and status_of(parent, "Jordan") == "none"
    # Nothing of the save was kept: the address on file is still Jordan's.
    assert parent.rows("SELECT email FROM people WHERE first_name = 'Jordan'")[0].email == (
        "jordan@demo.example"
    )


def test_an_email_changed_by_someone_else_tells_the_old_address_and_gets_no_link(parent):
    assert parent.save_person("Jordan", allow_texting=False, email=PARENTS_OWN).status_code == 200
    [notice] = parent.deliver()
    assert notice.to == ["jordan@demo.example"]
    assert "changed the email address" in notice.text and PARENTS_OWN in notice.text
    # Two steps instead of one save: still no Yes link to the address the parent typed.
    response = parent.save_person("Jordan", allow_texting=True)
    assert response.status_code == 400 and "changed by someone else" in response.text
    assert parent.deliver() == [] and status_of(parent, "Jordan") == "none"
    # A new phone would ask by email (rule 6): not at that address either.
    parent.save_person("Jordan", allow_texting=False, cell_phone="2015550177")
    assert [m for m in parent.deliver() if PARENTS_OWN in m.to] == []
    # Nor an invitation to the portal, whose login could then answer as Jordan.
    jordan = parent.person_id("Jordan")
    invited = parent.post(f"/account/contacts/{jordan}/invite", {}, token_from="/account/contacts")
    assert invited.status_code == 400 and "changed by someone else" in invited.text
    assert parent.deliver() == []


def test_saving_an_opted_in_adults_form_with_the_switch_left_on_changes_nothing(parent):
    jordan_yes(parent)
    before = consent_events(parent)
    response = submit_as_shown(parent, "Jordan", last_name="Parker-Lee")
    assert response.status_code == 200
    assert status_of(parent, "Jordan") == "opted_in" and consent_events(parent) == before
    assert parent.deliver() == []  # no new request email, no "changed" email


def test_an_answer_given_while_the_form_was_open_is_not_undone_by_saving_it(parent):
    path = request_link_for_jordan(parent)
    parent.login()
    jordan = parent.person_id("Jordan")
    page = parent.client.get(f"/account/contacts/{jordan}/edit").text
    assert WAS_RE.search(page).group(1) == "on"  # shown as on: waiting for Jordan
    token = CSRF_RE.search(page).group(1)
    # Meanwhile Jordan answers No from the email, on another device.
    parent.client.cookies.clear()
    assert answer(parent, path, "no").status_code == 200
    parent.login()
    token = parent.csrf(f"/account/contacts/{jordan}/edit")
    before = consent_events(parent)
    parent.client.post(
        f"/account/contacts/{jordan}/edit",
        data={
            "first_name": "Jordan",
            "last_name": "Parker",
            "email": "jordan@demo.example",
            "cell_phone": "(201) 555-0102",
            "allow_texting": "on",
            "allow_texting_was": "on",
            "csrf_token": token,
        },
    )
    assert status_of(parent, "Jordan") == "opted_out" and consent_events(parent) == before


def test_only_the_adult_who_logs_in_with_an_address_can_change_it(parent):
    jordan = parent.person_id("Jordan")
    parent.post(f"/account/contacts/{jordan}/invite", {}, token_from="/account/contacts")
    [invitation] = parent.deliver()
    link = re.search(r"http://portal\.test(/invite/[A-Za-z0-9._\-]+)", invitation.text).group(1)
    parent.client.cookies.clear()
    parent.post(
        link, {"password": "jordans-own-password", "password_again": "jordans-own-password"}
    )
    parent.client.cookies.clear()
    parent.login()
    response = parent.save_person("Jordan", allow_texting=False, email=PARENTS_OWN)
    assert response.status_code == 400 and "only Jordan can change it" in response.text
    assert parent.rows("SELECT email FROM accounts WHERE person_id = :p", {"p": jordan})[
        0
    ].email == ("jordan@demo.example")


def test_a_forged_was_field_cannot_turn_an_opted_in_adult_back_into_waiting(parent):
    jordan_yes(parent)
    before = consent_events(parent)
    response = submit_as_shown(parent, "Jordan", allow_texting_was="off")
    assert response.status_code == 200
    assert status_of(parent, "Jordan") == "opted_in" and consent_events(parent) == before
    assert parent.deliver() == []
