"""Families and intake: the list, a family's page, intake with consent and its evidence,
edits, invitations, moves and archiving, each in the audit trail."""

from __future__ import annotations

import json

import pytest
from staff_steps import events_of, login_as, receive_text, status_of


def family_id(portal, name: str) -> int:
    return portal.rows("SELECT id FROM families WHERE name = :n", {"n": name})[0].id


def member_path(portal, first_name: str) -> str:
    [person] = portal.rows(
        "SELECT id, family_id FROM people WHERE first_name = :n", {"n": first_name}
    )
    return f"/staff/families/{person.family_id}/people/{person.id}"


def add(portal, family: str, **form):
    path = f"/staff/families/{family_id(portal, family)}/add"
    return portal.post(path, form, token_from=path + "?kind=" + form.get("kind", "contact"))


def actions(portal, subject_kind: str = "person") -> list[str]:
    rows = portal.rows(
        "SELECT action FROM staff_actions WHERE subject_kind = :k ORDER BY id", {"k": subject_kind}
    )
    return [r.action for r in rows]


def counts(portal) -> tuple:
    """How many rows each table a family change could touch holds."""
    [row] = portal.rows(
        "SELECT (SELECT COUNT(*) FROM families) AS families,"
        " (SELECT COUNT(*) FROM people) AS people,"
        " (SELECT COUNT(*) FROM consent_events) AS events,"
        " (SELECT COUNT(*) FROM staff_actions) AS actions,"
        " (SELECT COUNT(*) FROM outbox) AS outbox"
    )
    details = portal.rows(
        "SELECT id, family_id, first_name, last_name, email, cell_phone, archived_at"
        " FROM people ORDER BY id"
    )
    return (*row.values(), details)


def test_the_family_list_searches_by_name_and_links_each_family(portal):
    login_as(portal, "viewer")
    page = portal.client.get("/staff/families?q=par")
    assert page.status_code == 200
    assert f'href="/staff/families/{family_id(portal, "Parker")}"' in page.text
    assert ">Lee<" not in page.text
    assert "New family" not in page.text  # a viewer only looks


def test_the_family_list_pages_by_keyset(portal):
    login_as(portal, "texting")
    for n in range(55):
        portal.post("/staff/families", {"name": f"Zed {n:02d}"}, token_from="/staff/families")
    first = portal.client.get("/staff/families?q=zed").text
    assert "Zed 00" in first and "Zed 49" in first and "Zed 50" not in first
    after = first.split("after=")[1].split('"')[0].replace("&amp;", "&")
    second = portal.client.get(f"/staff/families?q=zed&after={after}").text
    assert "Zed 50" in second and "Zed 54" in second and "Zed 49" not in second
    assert "Next page" not in second and "First page" in second


def test_a_family_page_shows_each_person_with_their_text_opt_in_in_words(portal):
    login_as(portal, "viewer")
    page = portal.client.get(f"/staff/families/{family_id(portal, 'Parker')}").text
    assert f'href="/staff/people/{portal.person_id("Pat")}"' in page
    assert "Texts allowed" in page and "Never asked" in page and "No cell phone" in page
    assert "Add a contact" not in page and "Rename family" not in page


def test_staff_create_and_rename_a_family_and_both_are_audited(portal):
    login_as(portal, "texting")
    created = portal.post("/staff/families", {"name": "  Nguyen  "}, token_from="/staff/families")
    assert created.status_code == 200 and "Family created" in created.text
    path = f"/staff/families/{family_id(portal, 'Nguyen')}"
    renamed = portal.post(f"{path}/rename", {"name": "Nguyen-Tran"}, token_from=path)
    assert "Family renamed" in renamed.text and "<h1>Nguyen-Tran family</h1>" in renamed.text
    assert actions(portal, "family") == ["family.created", "family.renamed"]
    assert "Renamed by Texting Staff" in renamed.text


def test_empty_family_names_are_refused_and_nothing_is_saved(portal):
    login_as(portal, "texting")
    before = counts(portal)
    refused = portal.post("/staff/families", {"name": "   "}, token_from="/staff/families")
    assert refused.status_code == 400 and "Enter the family&#39;s name." in refused.text
    path = f"/staff/families/{family_id(portal, 'Lee')}"
    refused = portal.post(f"{path}/rename", {"name": ""}, token_from=path)
    assert refused.status_code == 400 and counts(portal) == before


def test_intake_with_evidence_records_the_opt_in_in_the_same_save(portal):
    login_as(portal, "texting")
    response = add(
        portal,
        "Lee",
        kind="contact",
        first_name="Robin",
        last_name="Lee",
        email="robin@example.com",
        cell_phone="(201) 555-0150",
        text_opt_in="on",
        evidence_type="paper_form",
        note="registration form, 2 Sept",
    )
    assert response.status_code == 200 and "Added to the family." in response.text
    assert "Robin Lee" in response.text and status_of(portal, "Robin") == "opted_in"
    [event] = events_of(portal, "Robin")
    assert event.channel == "staff" and event.actor_label == "Texting Staff <texting@staff.example>"
    assert json.loads(event.evidence) == {
        "note": "registration form, 2 Sept",
        "evidence_type": "paper_form",
    }
    assert actions(portal) == ["person.added"]
    page = portal.client.get(f"/staff/people/{portal.person_id('Robin')}").text
    assert "Added by Texting Staff" in page


def test_intake_without_the_box_adds_a_person_never_asked(portal):
    login_as(portal, "texting")
    add(portal, "Lee", kind="student", first_name="Kit", last_name="Lee", cell_phone="2015550151")
    [kit] = portal.rows("SELECT kind, email, cell_phone FROM people WHERE first_name = 'Kit'")
    assert (kit.kind, kit.email, kit.cell_phone) == ("student", None, "+12015550151")
    assert events_of(portal, "Kit") == []


def test_intake_opt_in_without_how_they_agreed_saves_nothing_and_says_why(portal):
    login_as(portal, "texting")
    before = counts(portal)
    refused = add(
        portal,
        "Lee",
        kind="student",
        first_name="Kit",
        last_name="Lee",
        cell_phone="2015550151",
        text_opt_in="on",
        note="said yes",
    )
    assert refused.status_code == 400 and "Say how this person agreed" in refused.text
    assert 'value="Kit"' in refused.text and "said yes" in refused.text  # the form again
    assert counts(portal) == before


def test_intake_opt_in_is_refused_for_a_number_that_replied_stop(portal):
    receive_text(portal, "+12015550160", "STOP", "SM" + "a" * 32)
    login_as(portal, "texting")
    before = counts(portal)
    refused = add(
        portal,
        "Lee",
        kind="contact",
        first_name="Drew",
        last_name="Lee",
        cell_phone="+1 201 555 0160",
        text_opt_in="on",
        evidence_type="in_person",
        note="at the desk",
    )
    assert refused.status_code == 400 and "Only a text of START" in refused.text
    assert counts(portal) == before


def test_intake_checks_names_phones_and_shared_emails(portal):
    login_as(portal, "texting")
    before = counts(portal)
    refused = add(portal, "Lee", kind="contact", first_name="", last_name="Lee", cell_phone="12")
    assert refused.status_code == 400 and "Enter a name." in refused.text
    taken = add(
        portal, "Lee", kind="contact", first_name="Al", last_name="Lee", email="PARENT@demo.example"
    )
    assert taken.status_code == 400 and "Another contact already uses" in taken.text
    assert counts(portal) == before


def test_editing_details_keeps_consent_unless_the_phone_changes(portal):
    login_as(portal, "texting")
    path = member_path(portal, "Avery")
    form = {"first_name": "Ava", "last_name": "Parker"}
    kept = portal.post(path, {**form, "cell_phone": "2015550103"})
    assert kept.status_code == 200 and "Details saved." in kept.text
    assert status_of(portal, "Ava") == "opted_in" and len(events_of(portal, "Ava")) == 1
    changed = portal.post(
        path, {"first_name": "Ava", "last_name": "Parker", "cell_phone": "2015550199"}
    )
    assert changed.status_code == 200
    last = events_of(portal, "Ava")[-1]
    assert (last.channel, last.new_status) == ("phone_change", "none")
    assert "Never asked" in changed.text
    assert actions(portal) == ["person.details_edited", "person.details_edited"]


def test_a_staff_edit_of_a_contacts_phone_sends_them_the_request(portal):
    login_as(portal, "texting")
    path = member_path(portal, "Jordan")
    form = {"first_name": "Jordan", "last_name": "Parker", "email": "jordan@demo.example"}
    portal.post(path, {**form, "cell_phone": "2015550177"})
    assert status_of(portal, "Jordan") == "none"
    [mail] = [m for m in portal.deliver() if m.to == ["jordan@demo.example"]]
    assert "CLICK HERE" in mail.text


def test_an_edit_with_an_empty_name_changes_nothing(portal):
    login_as(portal, "texting")
    path = member_path(portal, "Morgan")
    before = counts(portal)
    refused = portal.post(path, {"first_name": " ", "last_name": "Lee", "email": ""})
    assert refused.status_code == 400 and "Enter a name." in refused.text
    assert "logs in with it" in refused.text
    assert counts(portal) == before


def test_a_contact_is_invited_to_the_portal_by_email(portal):
    login_as(portal, "texting")
    path = member_path(portal, "Jordan")
    response = portal.post(f"{path}/invite", {}, token_from=path)
    assert response.status_code == 200 and "invitation email is on its way" in response.text
    [mail] = [m for m in portal.deliver() if m.to == ["jordan@demo.example"]]
    assert "/invite/" in mail.text
    assert actions(portal) == ["person.invited"]


def test_a_contact_with_a_login_is_not_invited_again(portal):
    login_as(portal, "texting")
    path = member_path(portal, "Pat")
    assert "Invite to the portal" not in portal.client.get(path).text
    refused = portal.post(f"{path}/invite", {}, token_from=path)
    assert refused.status_code == 400 and "already has a login" in refused.text


def test_moving_a_student_keeps_consent_and_is_audited(portal):
    login_as(portal, "texting")
    path = member_path(portal, "Avery")
    found = portal.client.get(path + "?to=le")
    assert "Move here" in found.text
    lee = family_id(portal, "Lee")
    moved = portal.post(f"{path}/move", {"to_family": str(lee)}, token_from=path)
    assert moved.status_code == 200 and "Moved to the Lee family" in moved.text
    [avery] = portal.rows("SELECT family_id FROM people WHERE first_name = 'Avery'")
    assert avery.family_id == lee and status_of(portal, "Avery") == "opted_in"
    assert len(events_of(portal, "Avery")) == 1
    [action] = portal.rows("SELECT action, details FROM staff_actions")
    assert action.action == "person.moved"
    assert json.loads(action.details)["to_family"] == "Lee"
    assert "Moved by Texting Staff" in portal.client.get(f"/staff/people/{avery_id(portal)}").text


def avery_id(portal) -> int:
    return portal.person_id("Avery")


@pytest.mark.parametrize("to_family", ["99999999", "9" * 30, "abc", ""])
def test_a_move_to_a_family_that_does_not_exist_changes_nothing(portal, to_family):
    login_as(portal, "texting")
    path = member_path(portal, "Avery")
    before = counts(portal)
    refused = portal.post(f"{path}/move", {"to_family": to_family}, token_from=path)
    assert refused.status_code == 400 and "Choose the new family" in refused.text
    assert counts(portal) == before


def test_another_familys_student_cannot_be_moved_through_this_family(portal):
    login_as(portal, "texting")
    casey, parker, lee = (
        portal.person_id("Casey"),
        family_id(portal, "Parker"),
        family_id(portal, "Lee"),
    )
    token = portal.csrf("/staff/families")
    response = portal.client.post(
        f"/staff/families/{parker}/people/{casey}/move",
        data={"to_family": str(parker), "csrf_token": token},
    )
    assert response.status_code == 404
    [casey_now] = portal.rows("SELECT family_id FROM people WHERE first_name = 'Casey'")
    assert casey_now.family_id == lee


def test_a_contact_is_not_moved(portal):
    login_as(portal, "texting")
    path = member_path(portal, "Jordan")
    lee = str(family_id(portal, "Lee"))
    refused = portal.post(f"{path}/move", {"to_family": lee}, token_from=path)
    assert refused.status_code == 400 and "Only students move" in refused.text


def test_archiving_hides_from_people_and_keeps_the_ledger(portal):
    login_as(portal, "texting")
    path = member_path(portal, "Avery")
    ledger_before = events_of(portal, "Avery")
    archived = portal.post(f"{path}/archive", {"archive": "1"}, token_from=path)
    assert "Archived. Their history stays" in archived.text
    assert "Avery" not in portal.client.get("/staff/people?q=avery").text.split("People found")[1]
    assert events_of(portal, "Avery") == ledger_before
    family_page = portal.client.get(f"/staff/families/{family_id(portal, 'Parker')}").text
    assert 'aria-label="Archived"' in family_page
    person_page = portal.client.get(f"/staff/people/{avery_id(portal)}").text
    assert "archived" in person_page and "Archived by Texting Staff" in person_page
    back = portal.post(f"{path}/archive", {"archive": "0"}, token_from=path)
    assert "Back among current people" in back.text
    assert "Avery Parker" in portal.client.get("/staff/people?q=avery").text
    assert actions(portal) == ["person.archived", "person.unarchived"]


def test_a_viewer_changes_nothing(portal):
    login_as(portal, "viewer")
    before = counts(portal)
    parker = family_id(portal, "Parker")
    member = member_path(portal, "Avery")
    token = portal.csrf("/staff/families")
    assert portal.client.get(member).status_code == 200
    assert portal.client.get(f"/staff/families/{parker}/add").status_code == 403
    for path, data in [
        ("/staff/families", {"name": "X"}),
        (f"/staff/families/{parker}/rename", {"name": "X"}),
        (f"/staff/families/{parker}/add", {"first_name": "X", "last_name": "Y"}),
        (member, {"first_name": "X", "last_name": "Y"}),
        (f"{member}/invite", {}),
        (f"{member}/move", {"to_family": str(family_id(portal, "Lee"))}),
        (f"{member}/archive", {"archive": "1"}),
    ]:
        assert portal.client.post(path, data={**data, "csrf_token": token}).status_code == 403
    assert counts(portal) == before


def test_a_parent_reaches_no_family_page(parent):
    parker = family_id(parent, "Parker")
    token = parent.csrf("/account/settings")
    assert parent.client.get("/staff/families").status_code == 403
    assert parent.client.get(f"/staff/families/{parker}").status_code == 403
    for path in ("/staff/families", f"/staff/families/{parker}/rename"):
        response = parent.client.post(path, data={"name": "X", "csrf_token": token})
        assert response.status_code == 403


@pytest.mark.parametrize("tail", ["", "/rename", "/add", "/people/1", "/people/1/archive"])
def test_huge_and_unknown_family_ids_are_not_found(portal, tail):
    login_as(portal, "admin")
    token = portal.csrf("/staff/families")
    for family in ("99999999", "9" * 30):
        response = portal.client.post(f"/staff/families/{family}{tail}", data={"csrf_token": token})
        assert response.status_code in (404, 405)
        assert portal.client.get(f"/staff/families/{family}").status_code == 404
