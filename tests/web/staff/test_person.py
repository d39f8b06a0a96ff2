"""A person's page: Text Opt-In and Block Contact with Save Changes, requests, corrections."""

from __future__ import annotations

import json
import re

import pytest
from staff_steps import events_of, login_as, receive_text, status_of


def page_of(portal, first_name: str) -> str:
    return f"/staff/people/{portal.person_id(first_name)}"


def save(portal, first_name: str, **form):
    """Submit Save Changes as the page shows it: the boxes' starting values come from it."""
    path = page_of(portal, first_name)
    page = portal.client.get(path).text
    shown = {
        "text_opt_in_was": "on" if 'name="text_opt_in_was" value="on"' in page else "off",
        "block_was": "on" if 'name="block_was" value="on"' in page else "off",
    }
    if shown["text_opt_in_was"] == "on" and "text_opt_in" not in form:
        form["text_opt_in"] = "on"
    if shown["block_was"] == "on" and "block" not in form:
        form["block"] = "on"
    if 'name="tell_by_text" checked' in page and "tell_by_text" not in form:
        form["tell_by_text"] = "on"
    form = {k: v for k, v in form.items() if v is not None}
    return portal.post(path, {**shown, **form})


def outbox_texts(portal) -> list:
    return portal.rows("SELECT template, recipient, body_text FROM outbox WHERE channel = 'sms'")


def test_unchecking_text_opt_in_records_the_reason_and_texts_them_once(portal):
    login_as(portal, "texting")
    response = save(portal, "Pat", text_opt_in=None, note="asked at the front desk")
    assert response.status_code == 200 and "Changes saved." in response.text
    last = events_of(portal, "Pat")[-1]
    assert (last.new_status, last.channel) == ("opted_out", "staff")
    assert json.loads(last.evidence)["note"] == "asked at the front desk"
    assert last.actor_label == "Texting Staff <texting@staff.example>"
    [goodbye] = [t for t in outbox_texts(portal) if t.template == "staff_opt_out"]
    assert goodbye.recipient == "+12015550101" and "no more texts" in goodbye.body_text
    assert "Texts not allowed" in response.text and "asked at the front desk" in response.text


def test_no_goodbye_text_for_someone_who_complained_of_what_texts_cost(portal):
    receive_text(portal, "+12015550103", "is this costing me money?", "SM" + "c" * 32)
    login_as(portal, "texting")
    page = portal.client.get(page_of(portal, "Avery")).text
    assert 'id="tell_by_text" name="tell_by_text" aria' in page  # shown unchecked
    save(portal, "Avery", text_opt_in=None)
    assert [t for t in outbox_texts(portal) if t.template == "staff_opt_out"] == []


def test_checking_text_opt_in_needs_how_they_agreed(portal):
    login_as(portal, "texting")
    refused = save(portal, "Jordan", text_opt_in="on", note="")
    assert refused.status_code == 400 and "Say how this person agreed" in refused.text
    refused = save(portal, "Jordan", text_opt_in="on", note="signed", evidence_type="")
    assert refused.status_code == 400 and status_of(portal, "Jordan") == "none"
    done = save(portal, "Jordan", text_opt_in="on", evidence_type="paper_form", note="form 12")
    assert done.status_code == 200 and status_of(portal, "Jordan") == "opted_in"
    evidence = json.loads(events_of(portal, "Jordan")[-1].evidence)
    assert evidence == {"note": "form 12", "evidence_type": "paper_form"}


def test_checking_is_refused_for_a_number_that_replied_stop_and_the_page_says_text_start(portal):
    receive_text(portal, "+12015550102", "STOP", "SM" + "d" * 32)
    login_as(portal, "texting")
    page = portal.client.get(page_of(portal, "Jordan"))
    assert "This number replied STOP. Text START to (201) 555-0100" in page.text
    assert 'id="text_opt_in"' not in page.text
    forced = save(portal, "Jordan", text_opt_in="on", evidence_type="in_person", note="said yes")
    assert forced.status_code == 400 and "Only a text of START" in forced.text
    assert status_of(portal, "Jordan") == "opted_out"


def test_block_opts_out_and_must_be_lifted_before_any_opt_in(portal):
    login_as(portal, "texting")
    save(portal, "Avery", block="on", text_opt_in=None, note="wrong family")
    assert status_of(portal, "Avery") == "opted_out"
    assert portal.rows("SELECT blocked FROM people WHERE first_name = 'Avery'")[0].blocked == 1
    refused = save(portal, "Avery", text_opt_in="on", evidence_type="by_phone", note="called")
    assert refused.status_code == 400 and "blocked texting" in refused.text
    unblocked = save(portal, "Avery", block=None)
    assert unblocked.status_code == 200 and status_of(portal, "Avery") == "opted_out"
    save(portal, "Avery", text_opt_in="on", evidence_type="by_phone", note="called back")
    assert status_of(portal, "Avery") == "opted_in"
    actions = portal.rows("SELECT action FROM staff_actions ORDER BY id")
    assert [a.action for a in actions] == ["person.block", "person.unblock"]


def test_saving_without_moving_a_box_changes_nothing(portal):
    login_as(portal, "texting")
    before = len(portal.rows("SELECT id FROM consent_events"))
    assert save(portal, "Pat", note="just looking").status_code == 200
    assert len(portal.rows("SELECT id FROM consent_events")) == before


def test_the_click_here_request_goes_to_the_person(portal):
    login_as(portal, "texting")
    path = page_of(portal, "Jordan")
    response = portal.post(f"{path}/request", {}, token_from=path)
    assert "request email is on its way" in response.text
    [mail] = [m for m in portal.deliver() if m.to == ["jordan@demo.example"]]
    assert "CLICK HERE" in mail.text


def test_a_viewer_sees_everything_and_changes_nothing(portal):
    login_as(portal, "viewer")
    path = page_of(portal, "Pat")
    page = portal.client.get(path)
    assert page.status_code == 200 and "Save Changes" not in page.text and "History" in page.text
    token = portal.csrf(path)
    for action, data in [
        ("", {"text_opt_in_was": "on"}),
        ("/request", {}),
        ("/correct", {"event_id": "1", "reason": "x"}),
    ]:
        response = portal.client.post(path + action, data={**data, "csrf_token": token})
        assert response.status_code == 403
    assert status_of(portal, "Pat") == "opted_in"


def test_a_parent_reaches_no_person_page(parent):
    path = page_of(parent, "Pat")
    assert parent.client.get(path).status_code == 403
    token = parent.csrf("/account/settings")
    response = parent.client.post(path, data={"text_opt_in_was": "on", "csrf_token": token})
    assert response.status_code == 403


def test_an_admin_undoes_a_staff_opt_out_made_in_error(portal):
    login_as(portal, "texting")
    save(portal, "Casey", text_opt_in=None, note="clicked the wrong row")
    opt_out = events_of(portal, "Casey")[-1]
    path = page_of(portal, "Casey")
    forbidden = portal.post(
        f"{path}/correct", {"event_id": opt_out.id, "reason": "x"}, token_from=path
    )
    assert forbidden.status_code == 403  # corrections are for admins
    login_as(portal, "admin")
    no_reason = portal.post(
        f"{path}/correct", {"event_id": opt_out.id, "reason": " "}, token_from=path
    )
    assert no_reason.status_code == 400 and status_of(portal, "Casey") == "opted_out"
    done = portal.post(
        f"{path}/correct", {"event_id": opt_out.id, "reason": "wrong row"}, token_from=path
    )
    assert "Corrected" in done.text and status_of(portal, "Casey") == "opted_in"
    correction = events_of(portal, "Casey")[-1]
    assert correction.channel == "correction"
    assert json.loads(correction.evidence) == {"note": "wrong row", "undoes_event": opt_out.id}
    again = portal.post(
        f"{path}/correct", {"event_id": opt_out.id, "reason": "twice"}, token_from=path
    )
    assert again.status_code == 400  # no longer the latest word: nothing to undo


def test_a_keyword_stop_is_never_undone_by_staff(portal):
    receive_text(portal, "+12015550111", "STOP", "SM" + "e" * 32)
    [stop] = portal.rows("SELECT id FROM consent_events WHERE person_id IS NULL")
    login_as(portal, "admin")
    path = page_of(portal, "Morgan")
    assert "Mark as not an opt-out" not in portal.client.get(path).text
    response = portal.post(
        f"{path}/correct",
        {"event_id": stop.id, "kind": "plain_words_stop", "reason": "they did not mean it"},
        token_from=path,
    )
    assert response.status_code == 400 and "only by a text of START" in response.text
    assert status_of(portal, "Morgan") == "opted_out"


def test_a_stop_in_plain_words_that_was_not_one_is_marked_not_an_opt_out(portal):
    # Read as a stop in plain words ("please stop ..."), and flagged for review.
    receive_text(portal, "+12015550101", "Please stop at the office with the form", "SM" + "f" * 32)
    assert status_of(portal, "Pat") == "opted_out"
    [stop] = portal.rows("SELECT id FROM consent_events WHERE person_id IS NULL")
    login_as(portal, "admin")
    path = page_of(portal, "Pat")
    assert "Mark as not an opt-out" in portal.client.get(path).text
    done = portal.post(
        f"{path}/correct",
        {"event_id": stop.id, "kind": "plain_words_stop", "reason": "asked to visit"},
        token_from=path,
    )
    assert "Corrected" in done.text
    assert status_of(portal, "Pat") == "opted_in"
    [suppression] = portal.rows("SELECT active FROM phone_suppressions")
    assert suppression.active == 0
    [text] = portal.rows("SELECT review_outcome FROM inbound_messages")
    assert text.review_outcome == "not_opt_out"  # it leaves the Alerts page


@pytest.mark.parametrize("where", ["", "/request", "/correct"])
def test_huge_and_unknown_ids_are_not_found(portal, where):
    login_as(portal, "admin")
    token = portal.csrf("/staff/people")
    for person in ("99999999", "9" * 30):
        response = portal.client.post(f"/staff/people/{person}{where}", data={"csrf_token": token})
        assert response.status_code == 404


def test_a_correction_acts_only_on_the_person_whose_page_it_came_from(portal):
    login_as(portal, "texting")
    save(portal, "Jordan", text_opt_in="on", evidence_type="paper_form", note="form")
    save(portal, "Jordan", text_opt_in=None, note="by mistake")
    jordan_opt_out = events_of(portal, "Jordan")[-1]
    login_as(portal, "admin")
    avery = page_of(portal, "Avery")
    response = portal.post(
        f"{avery}/correct", {"event_id": jordan_opt_out.id, "reason": "x"}, token_from=avery
    )
    assert response.status_code == 404 and status_of(portal, "Jordan") == "opted_out"


def test_undoing_an_opt_out_tells_the_handset_texts_start_again(portal):
    login_as(portal, "texting")
    save(portal, "Casey", text_opt_in=None, note="wrong row")
    opt_out = events_of(portal, "Casey")[-1]
    login_as(portal, "admin")
    path = page_of(portal, "Casey")
    portal.post(f"{path}/correct", {"event_id": opt_out.id, "reason": "wrong row"}, token_from=path)
    templates = [t.template for t in outbox_texts(portal)]
    assert templates == ["staff_opt_out", "opt_in_confirmation"]


def test_no_goodbye_text_to_a_number_someone_else_still_gets_texts_on(parent):
    parent.save_person("Avery", allow_texting=True, cell_phone="(201) 555-0101")  # Pat's
    login_as(parent, "texting")
    save(parent, "Avery", text_opt_in=None, note="Avery left the team")
    assert [t for t in outbox_texts(parent) if t.template == "staff_opt_out"] == []
    assert status_of(parent, "Pat") == "opted_in"


def test_start_from_a_number_whose_only_person_is_blocked_is_not_told_it_is_subscribed(portal):
    login_as(portal, "texting")
    save(portal, "Casey", block="on", text_opt_in=None, note="wrong family", tell_by_text=None)
    receive_text(portal, "+12015550112", "START")
    assert [t.template for t in outbox_texts(portal)] == []
    assert status_of(portal, "Casey") == "opted_out"


def _history_words(page: str) -> str:
    """The History list as a reader sees it: its text, without markup."""
    history = page.split('id="history"', 1)[1].split("</ol>", 1)[0]
    return " ".join(re.sub(r"<[^>]+>", " ", history).split())


def test_the_history_says_each_change_in_words_from_old_to_new_never_in_codes(portal):
    login_as(portal, "admin")
    save(portal, "Avery", text_opt_in=None, note="asked at the front desk")
    receive_text(portal, "+12015550103", "please stop texting me")  # Avery's number
    words = _history_words(portal.client.get(page_of(portal, "Avery")).text)
    assert "Texts allowed → Texts not allowed" in words  # staff unchecked Text Opt-In
    assert "Never asked → Texts allowed" in words  # the demo's import
    assert "Number opted out (STOP)" in words and "stop in plain words" in words
    for code in ("opted_in", "opted_out", "needs_review", "suppressed", "->", "True", "False"):
        assert code not in words
