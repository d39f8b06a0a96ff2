"""What each change owes: the one opt-in confirmation text per number, on every channel."""

from __future__ import annotations

from consent_link_steps import answer, request_link_for_jordan
from staff_steps import login_as, receive_text

from portal.people import roster

PAT, JORDAN = "+12015550101", "+12015550102"
REQUIRED = (
    "Riverside Dance Academy",
    "classes",
    "frequency",
    "Msg & data rates may apply",
    "Reply HELP for help, STOP to opt out",
)


def confirmations(portal) -> list:
    return portal.rows(
        "SELECT recipient, body_text, status FROM outbox WHERE template = 'opt_in_confirmation'"
        " ORDER BY id"
    )


def test_a_portal_opt_in_is_confirmed_by_one_text_with_what_carriers_require(parent):
    parent.save_person("Pat", allow_texting=False)
    parent.save_person("Pat", allow_texting=True)
    [text] = confirmations(parent)
    assert text.recipient == PAT and all(words in text.body_text for words in REQUIRED)


def test_a_number_already_receiving_texts_gets_no_second_confirmation(parent):
    # Avery takes Pat's number: the number already receives texts and was told so.
    parent.save_person("Avery", allow_texting=True, cell_phone="(201) 555-0101")
    assert confirmations(parent) == []


def test_the_email_link_yes_and_a_staff_opt_in_are_confirmed(parent):
    path = request_link_for_jordan(parent)
    answer(parent, path, "yes")
    assert [c.recipient for c in confirmations(parent)] == [JORDAN]
    login_as(parent, "texting")
    casey = parent.person_id("Casey")
    page = f"/staff/people/{casey}"
    parent.post(page, {"text_opt_in_was": "on", "block_was": "off", "note": "left"})
    parent.post(
        page,
        {
            "text_opt_in": "on",
            "text_opt_in_was": "off",
            "block_was": "off",
            "evidence_type": "in_person",
            "note": "asked at pickup",
        },
    )
    assert [c.recipient for c in confirmations(parent)] == [JORDAN, "+12015550112"]


def test_start_is_answered_once_not_confirmed_twice(parent):
    receive_text(parent, PAT, "STOP")
    receive_text(parent, PAT, "START")
    texts = parent.rows("SELECT template FROM outbox WHERE channel = 'sms' ORDER BY id")
    assert [t.template for t in texts] == ["reply_opt_out", "reply_opt_in"]


def test_an_import_of_a_parent_and_a_student_sharing_a_number_confirms_it_once(portal):
    csv = (
        "family,kind,first_name,last_name,email,cell_phone,texting,consent_note\n"
        "Ng,contact,Lan,Ng,lan@real.example,2015550150,yes,registration form\n"
        "Ng,student,Bao,Ng,,2015550150,yes,registration form\n"
    )
    report = portal.call(roster.import_roster, portal.ctx, csv.encode())
    assert report.ok and report.consent_recorded == 2
    assert [c.recipient for c in confirmations(portal)] == ["+12015550150"]


def test_a_stop_before_the_confirmation_goes_out_keeps_it_from_going(parent):
    parent.save_person("Pat", allow_texting=False)
    parent.save_person("Pat", allow_texting=True)
    receive_text(parent, PAT, "STOP")
    parent.deliver()
    [text] = confirmations(parent)
    assert text.status == "blocked"  # asked again at send time (rule 2)
