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
