"""Journey: a parent turns a student's texting off and the organization is emailed."""

from __future__ import annotations

from portal import phones


def test_parent_turns_a_students_texting_off_and_the_office_is_emailed(parent):
    avery = parent.person_id("Avery")
    page = parent.client.get(f"/account/students/{avery}")
    assert "Texts allowed" in page.text

    response = parent.post(
        f"/account/students/{avery}/edit",
        {
            "first_name": "Avery",
            "last_name": "Parker",
            "cell_phone": "+12015550103",
        },
    )
    assert response.status_code == 200
    assert "Texts not allowed" in response.text

    [mail] = parent.deliver()
    assert mail.to == ["office@demo.example"]  # the demo organization's Organization Email
    assert mail.subject == "Text messaging opt-out: Avery Parker"
    assert phones.mask("+12015550103") in mail.text
    assert "Pat Parker" in mail.text
    assert "+12015550103" not in mail.text  # the number is masked


def test_the_edit_form_shows_the_number_as_people_write_it_and_saving_it_changes_nothing(parent):
    avery = parent.person_id("Avery")
    form = parent.client.get(f"/account/students/{avery}/edit")
    assert 'value="(201) 555-0103"' in form.text
    events_before = len(parent.rows("SELECT id FROM consent_events"))
    response = parent.post(
        f"/account/students/{avery}/edit",
        {
            "first_name": "Avery",
            "last_name": "Parker",
            "cell_phone": "(201) 555-0103",
            "allow_texting": "on",
        },
    )
    assert "Texts allowed" in response.text
    assert len(parent.rows("SELECT id FROM consent_events")) == events_before
    assert parent.deliver() == []


def test_an_account_holder_cannot_blank_their_login_email_from_the_contacts_page(parent):
    pat = parent.person_id("Pat")
    response = parent.post(
        f"/account/contacts/{pat}/edit",
        {
            "first_name": "Pat",
            "last_name": "Parker",
            "email": "",
            "cell_phone": "2015550101",
            "allow_texting": "on",
        },
    )
    assert response.status_code == 400
    assert "it is how you log in" in response.text
    assert parent.rows("SELECT email FROM people WHERE id = :id", {"id": pat})[0].email


def test_a_renamed_parent_is_named_anew_in_the_ledger_and_in_emails(parent):
    parent.save_person("Pat", allow_texting=True, first_name="Patricia")
    parent.save_person("Avery", allow_texting=False)
    [mail] = parent.deliver()
    assert "Patricia Parker" in mail.text
    [event] = parent.rows("SELECT actor_label FROM consent_events ORDER BY id DESC LIMIT 1")
    assert event.actor_label.startswith("Patricia Parker")
