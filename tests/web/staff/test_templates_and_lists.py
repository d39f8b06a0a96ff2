"""Message templates staff manage, and the live count's script; through the real app."""

from __future__ import annotations

import re

import pytest
from staff_steps import login_as


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
