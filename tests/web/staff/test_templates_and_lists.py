"""Message templates and saved lists staff manage, and the live count's script; through the
real app."""

from __future__ import annotations

import json
import re

import pytest
from staff_steps import add_person, login_as, receive_text, wait_for_queueing

from portal.db import people as people_rows
from portal.messaging import segments


def add_template(portal, name="Class on", body="Hi {first_name}, class is on. {organization}"):
    return portal.post(
        "/staff/messages/templates", {"name": name, "body": body}, token_from="/staff/messages"
    )


def template_ids(portal) -> list[int]:
    return [r.id for r in portal.rows("SELECT id FROM message_templates ORDER BY id")]


def test_a_viewer_sees_templates_but_gets_403_on_every_post(portal):
    login_as(portal, "texting")
    assert add_template(portal).status_code == 200
    [template_id] = template_ids(portal)
    paths = [
        "/staff/messages/templates",
        f"/staff/messages/templates/{template_id}",
        f"/staff/messages/templates/{template_id}/delete",
    ]
    login_as(portal, "viewer")
    page = portal.client.get("/staff/messages/templates")
    assert page.status_code == 200 and "Class on" in page.text
    assert 'action="/staff/messages/templates"' not in page.text
    assert portal.client.get(f"/staff/messages/templates/{template_id}").status_code == 403
    token = portal.csrf("/staff/messages")
    for path in paths:
        response = portal.client.post(path, data={"csrf_token": token, "name": "x", "body": "y"})
        assert response.status_code == 403, path
    portal.client.cookies.clear()
    portal.login()
    token = portal.csrf("/account/settings")
    for path in paths:
        assert portal.client.post(path, data={"csrf_token": token}).status_code == 403, path
    assert portal.rows("SELECT name, body FROM message_templates")[0].name == "Class on"


def test_a_template_pre_fills_the_compose_form_without_javascript(portal):
    login_as(portal, "texting")
    add_template(portal, body="Snow day, {first_name}!")
    [template_id] = template_ids(portal)
    pat = portal.person_id("Pat")
    page = portal.client.get(f"/staff/messages?template={template_id}&person={pat}")
    assert page.status_code == 200
    assert re.search(
        r'<textarea id="body" name="body"[^>]*>Snow day, \{first_name\}!</textarea>', page.text
    )
    assert "To: Pat Parker" in page.text
    assert f'<option value="{template_id}" selected>Class on</option>' in page.text
    assert portal.client.get("/staff/messages?template=999").status_code == 404


def test_staff_edit_and_delete_a_template_and_each_change_is_audited(portal):
    login_as(portal, "texting")
    add_template(portal)
    [template_id] = template_ids(portal)
    edit = portal.client.get(f"/staff/messages/templates/{template_id}")
    assert edit.status_code == 200 and 'id="template_name"' in edit.text
    saved = portal.post(
        f"/staff/messages/templates/{template_id}",
        {"name": "Class off", "body": "No class today, {first_name}."},
        token_from="/staff/messages",
    )
    assert saved.status_code == 200 and "Template saved." in saved.text
    assert portal.rows("SELECT name FROM message_templates")[0].name == "Class off"
    deleted = portal.post(
        f"/staff/messages/templates/{template_id}/delete", {}, token_from="/staff/messages"
    )
    assert deleted.status_code == 200 and "Template deleted." in deleted.text
    assert template_ids(portal) == []
    actions = portal.rows(
        "SELECT action, subject_id FROM staff_actions WHERE subject_kind = 'message_template'"
        " ORDER BY id"
    )
    assert [(a.action, a.subject_id) for a in actions] == [
        ("message_template_create", template_id),
        ("message_template_update", template_id),
        ("message_template_delete", template_id),
    ]
    gone = portal.post(
        f"/staff/messages/templates/{template_id}",
        {"name": "x", "body": "y"},
        token_from="/staff/messages",
    )
    assert gone.status_code == 404


@pytest.mark.parametrize(
    ("name", "body", "words"),
    [
        ("Empty", "  ", "Write the text to send."),
        ("Unknown", "Hi {last_name}", "{last_name} is not a placeholder"),
        ("Long", "a" * 1531, "The text is 11 segments; at most 10 can be sent."),
        ("Control", "Hi\x00there", "cannot contain control characters"),
        ("", "Hi {first_name}", "Enter a name."),
    ],
)
def test_a_bad_template_is_refused_and_nothing_is_saved(portal, name, body, words):
    login_as(portal, "texting")
    refused = add_template(portal, name=name, body=body)
    assert refused.status_code == 400 and words in refused.text
    assert template_ids(portal) == []
    assert portal.rows("SELECT id FROM staff_actions WHERE subject_kind = 'message_template'") == []


def test_a_composed_text_with_a_control_character_is_refused_too(portal):
    login_as(portal, "texting")
    refused = portal.post(
        "/staff/messages/preview", {"body": "Hi\u202e{first_name}"}, token_from="/staff/messages"
    )
    assert refused.status_code == 400 and "cannot contain control characters" in refused.text


def test_the_compose_page_loads_the_live_count_script_from_a_static_file(portal):
    login_as(portal, "texting")
    page = portal.client.get("/staff/messages").text
    assert '<script src="/static/compose.js" defer></script>' in page
    assert 'id="body-count"' in page and "<script>" not in page
    script = portal.client.get("/static/compose.js")
    assert script.status_code == 200 and "153" in script.text and "67" in script.text


def create_list(portal, name="Parkers") -> int:
    created = portal.post("/staff/lists", {"name": name}, token_from="/staff/lists")
    assert created.status_code == 200 and f"<h1>{name}</h1>" in created.text
    return portal.rows("SELECT id FROM saved_lists WHERE name = :n", {"n": name})[0].id


def add_to_list(portal, list_id: int, **form):
    return portal.post(
        "/staff/lists/add", {"list": str(list_id), **form}, token_from="/staff/lists"
    )


def members(portal, list_id: int) -> list[str]:
    rows = portal.rows(
        "SELECT p.first_name FROM saved_list_members m JOIN people p ON p.id = m.person_id"
        " WHERE m.list_id = :id ORDER BY p.first_name",
        {"id": list_id},
    )
    return [r.first_name for r in rows]


def test_a_viewer_sees_lists_but_gets_403_on_every_post_and_a_parent_too(portal):
    login_as(portal, "texting")
    list_id = create_list(portal)
    add_to_list(portal, list_id, person=str(portal.person_id("Pat")))
    pat = portal.person_id("Pat")
    paths = [
        "/staff/lists",
        "/staff/lists/add",
        f"/staff/lists/{list_id}/people/{pat}/remove",
        f"/staff/lists/{list_id}/delete",
    ]
    login_as(portal, "viewer")
    page = portal.client.get(f"/staff/lists/{list_id}")
    assert page.status_code == 200 and "Pat Parker" in page.text
    assert "Remove" not in page.text and "Delete this list" not in page.text
    token = portal.csrf("/staff/lists")
    for path in paths:
        data = {"csrf_token": token, "name": "x", "list": str(list_id), "person": str(pat)}
        assert portal.client.post(path, data=data).status_code == 403, path
    portal.client.cookies.clear()
    portal.login()
    token = portal.csrf("/account/settings")
    for path in paths:
        assert portal.client.post(path, data={"csrf_token": token}).status_code == 403, path
    assert members(portal, list_id) == ["Pat"]


def test_a_list_fills_from_a_people_search_and_from_a_persons_page(portal):
    login_as(portal, "texting")
    list_id = create_list(portal)
    people_page = portal.client.get("/staff/people?q=Parker").text
    assert 'action="/staff/lists/add"' in people_page and 'name="q" value="Parker"' in people_page
    added = add_to_list(portal, list_id, q="Parker")
    assert added.status_code == 200 and "Added 4 people" in added.text
    morgan = portal.person_id("Morgan")
    person_page = portal.client.get(f"/staff/people/{morgan}").text
    assert 'action="/staff/lists/add"' in person_page
    assert add_to_list(portal, list_id, person=str(morgan)).status_code == 200
    again = add_to_list(portal, list_id, q="Parker")
    assert "Added 0 people" in again.text
    assert members(portal, list_id) == ["Avery", "Jordan", "Morgan", "Pat", "Sam"]
    assert len(portal.rows("SELECT id FROM staff_actions WHERE action = 'saved_list_add'")) == 3


def test_adding_from_a_search_takes_every_match_not_only_the_first_page(portal):
    async def many():
        async with portal.ctx.db.write() as conn:
            family_id = await people_rows.create_family(conn, name="Many", now="2026-01-01")
            for n in range(520):
                await people_rows.create(
                    conn,
                    family_id=family_id,
                    kind="student",
                    first_name=f"Kid{n:03d}",
                    last_name="Manyfold",
                    email=None,
                    cell_phone=None,
                    now="2026-01-01",
                )

    portal.call(many)
    login_as(portal, "texting")
    list_id = create_list(portal, "Everyone named Manyfold")
    assert "Added 520 people" in add_to_list(portal, list_id, q="Manyfold").text
    assert len(members(portal, list_id)) == 520


def test_staff_remove_people_and_delete_a_list_and_each_change_is_audited(portal):
    login_as(portal, "texting")
    list_id = create_list(portal)
    add_to_list(portal, list_id, q="Parker")
    pat = portal.person_id("Pat")
    removed = portal.post(
        f"/staff/lists/{list_id}/people/{pat}/remove", {}, token_from=f"/staff/lists/{list_id}"
    )
    assert removed.status_code == 200 and "Removed from the list." in removed.text
    assert "Pat" not in members(portal, list_id)
    deleted = portal.post(f"/staff/lists/{list_id}/delete", {}, token_from="/staff/lists")
    assert deleted.status_code == 200 and "List deleted." in deleted.text
    assert portal.rows("SELECT id FROM saved_lists") == []
    assert portal.rows("SELECT person_id FROM saved_list_members") == []
    actions = portal.rows(
        "SELECT action FROM staff_actions WHERE subject_kind = 'saved_list' ORDER BY id"
    )
    assert [a.action for a in actions] == [
        "saved_list_create",
        "saved_list_add",
        "saved_list_remove",
        "saved_list_delete",
    ]


def test_a_text_to_a_list_reaches_its_members_once_per_number_and_names_who_is_skipped(portal):
    add_person(portal, "Riley", "+12015550101")  # shares Pat's number
    receive_text(portal, "+12015550112", "STOP")  # Casey
    avery = portal.person_id("Avery")
    family_id = portal.rows("SELECT family_id FROM people WHERE id = :id", {"id": avery})[0]
    login_as(portal, "admin")
    archived = portal.post(
        f"/staff/families/{family_id.family_id}/people/{avery}/archive",
        {"archive": "1"},
        token_from=f"/staff/families/{family_id.family_id}/people/{avery}",
    )
    assert archived.status_code == 200
    login_as(portal, "texting")
    list_id = create_list(portal)
    for name in ("Pat", "Riley", "Jordan", "Casey", "Avery", "Morgan"):
        add_to_list(portal, list_id, person=str(portal.person_id(name)))
    assert 'href="/staff/messages?list=' in portal.client.get(f"/staff/lists/{list_id}").text
    compose = portal.client.get(f"/staff/messages?list={list_id}").text
    assert "To: The list Parkers" in compose
    assert f'<input type="hidden" name="list" value="{list_id}">' in compose
    form = {"list": str(list_id), "body": "Hi {first_name}"}
    page = portal.post("/staff/messages/preview", form, token_from="/staff/messages")
    assert page.status_code == 200
    assert "<strong>2</strong> will receive it" in page.text  # Pat (for Riley too) and Morgan
    assert "Texts not allowed: 1" in page.text and "Jordan Parker" in page.text
    assert "Replied STOP: 1" in page.text and "Casey Lee" in page.text
    assert "Archived: 1" in page.text and "Avery Parker" in page.text
    assert "Same number already receiving it: 1" in page.text and "Riley Parker" in page.text
    token = re.search(r'name="send_token" value="([^"]+)"', page.text).group(1)
    sent = portal.post(
        "/staff/messages/send", {**form, "send_token": token}, token_from="/staff/messages"
    )
    assert sent.status_code == 200 and "Mass text" in sent.text
    wait_for_queueing(portal)  # the texts are queued in the background
    texts = portal.rows(
        "SELECT recipient, body_text FROM outbox WHERE template = 'mass_text' ORDER BY recipient"
    )
    assert [(t.recipient, t.body_text) for t in texts] == [
        ("+12015550101", "Hi Pat"),
        ("+12015550111", "Hi Morgan"),
    ]
    [mass] = portal.rows("SELECT criteria, skipped FROM mass_texts")
    assert f'"list_id": {list_id}' in mass.criteria and mass.skipped == 4


def test_a_list_that_does_not_exist_is_a_404_everywhere(portal):
    login_as(portal, "texting")
    pat = str(portal.person_id("Pat"))
    assert portal.client.get("/staff/lists/999").status_code == 404
    assert portal.client.get("/staff/messages?list=999").status_code == 404
    form = {"list": "999", "body": "Hi"}
    assert (
        portal.post("/staff/messages/preview", form, token_from="/staff/messages").status_code
        == 404
    )
    assert add_to_list(portal, 999, person=pat).status_code == 404
    for path in (f"/staff/lists/999/people/{pat}/remove", "/staff/lists/999/delete"):
        assert portal.post(path, {}, token_from="/staff/lists").status_code == 404, path


def test_the_live_count_script_uses_the_servers_gsm_alphabet_and_limits(portal):
    script = portal.client.get("/static/compose.js").text
    basic = re.search(r'var GSM_BASIC = ("(?:[^"\\]|\\.)*") \+\s*("(?:[^"\\]|\\.)*");', script)
    extended = re.search(r'var GSM_EXTENDED = ("(?:[^"\\]|\\.)*");', script)
    assert frozenset(json.loads(basic.group(1)) + json.loads(basic.group(2))) == segments.GSM_BASIC
    assert frozenset(json.loads(extended.group(1))) == segments.GSM_EXTENDED
    assert "var single = gsm ? 160 : 70, part = gsm ? 153 : 67;" in script
