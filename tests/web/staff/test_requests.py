"""Bulk opt-in requests: choose by the People filters, preview who is asked and who is
skipped and why, send in the background in batches, and read the results."""

from __future__ import annotations

import re

import pytest
from staff_steps import login_as, receive_text

from portal.clock import to_db
from portal.consent.rules import Actor
from portal.db import people as people_rows
from portal.people import bulk_requests

TOKEN_RE = re.compile(r'name="send_token" value="([^"]+)"')
EVERYONE_WITH_OR_WITHOUT_EMAIL = "chosen=1&status="


def wait_for_sends(portal) -> None:
    """Deterministic: await every send this app started (no sleeping, no timing)."""
    sends = getattr(portal.app.state, "request_sends", None)
    if sends is not None:
        portal.call(sends.join)


def send(portal, query: str = ""):
    """Open the preview for `query`, click its Send, and wait for the send to finish."""
    page = portal.client.get(f"/staff/requests?{query}").text
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
    response = portal.client.post("/staff/requests", data=form)
    wait_for_sends(portal)
    return portal.client.get(response.url.path) if response.status_code == 200 else response


def add_people(portal, count: int, *, email: bool = True) -> None:
    async def create():
        async with portal.ctx.db.write() as conn:
            family = await people_rows.create_family(conn, name="Bulk", now=to_db(portal.ctx.now()))
            for n in range(count):
                await people_rows.create(
                    conn,
                    family_id=family,
                    kind="contact",
                    first_name=f"Person{n:03d}",
                    last_name="Bulk",
                    email=f"person{n:03d}@example.com" if email else None,
                    cell_phone=f"+1201556{n:04d}",
                    now=to_db(portal.ctx.now()),
                )

    portal.call(create)


def request_emails(portal) -> list:
    return portal.rows(
        "SELECT recipient FROM outbox WHERE template = 'consent_request' ORDER BY recipient"
    )


def test_the_default_is_everyone_never_asked_with_a_cell_phone_and_an_email(portal):
    login_as(portal, "texting")
    page = portal.client.get("/staff/requests").text
    assert "<strong>1</strong> person will get the CLICK HERE email" in page
    assert "Jordan Parker" in page and "Sam Parker" not in page
    assert '<option value="never_asked" selected>' in page and 'name="with_email" checked' in page


def test_the_preview_counts_who_is_skipped_and_why_with_their_names(portal):
    receive_text(portal, "+12015550102", "STOP", "SM" + "b" * 32)
    login_as(portal, "texting")
    page = portal.client.get(f"/staff/requests?{EVERYONE_WITH_OR_WITHOUT_EMAIL}").text
    # Pat and Morgan already said yes: the office does not ask them again.
    assert "<strong>0</strong> people will get the CLICK HERE email" in page
    assert "<strong>6</strong> skipped" in page
    assert "Already answered: texts allowed: 2" in page and "Pat Parker" in page
    assert "No email address: 2" in page and "Avery Parker" in page and "Casey Lee" in page
    assert "No cell phone: 1" in page and "Sam Parker" in page
    assert "Number replied STOP: only START" in page and "Jordan Parker" in page


def test_the_preview_skips_blocked_people_and_addresses_typed_by_someone_else(portal):
    # Pat types a new address for Jordan, another adult of the family: not Jordan's own yet.
    assert portal.login().status_code == 200
    portal.save_person("Jordan", allow_texting=False, email="jordan.new@example.com")
    login_as(portal, "texting")
    morgan = f"/staff/people/{portal.person_id('Morgan')}"
    portal.post(morgan, {"text_opt_in_was": "on", "block": "on", "block_was": "off"})
    page = portal.client.get(f"/staff/requests?{EVERYONE_WITH_OR_WITHOUT_EMAIL}").text
    assert "<strong>0</strong> people will get the CLICK HERE email" in page  # Pat said yes
    assert "Texting blocked: 1" in page and "Morgan Lee" in page
    assert "Email address typed by someone else, not yet confirmed: 1" in page
    assert "Jordan Parker" in page


def test_sending_emails_one_request_to_each_askable_person_and_shows_the_results(portal):
    login_as(portal, "texting")
    done = send(portal, EVERYONE_WITH_OR_WITHOUT_EMAIL)
    assert done.status_code == 200 and "Done" in done.text and "portal-refresh" not in done.text
    assert "<strong>1</strong> request email" in done.text
    assert "No email address: 2" in done.text and "Sam Parker" in done.text
    assert "Already answered: texts allowed: 2" in done.text
    mail = portal.deliver()
    assert sorted(m.to[0] for m in mail) == ["jordan@demo.example"]
    assert all("CLICK HERE" in m.text for m in mail)
    [action] = portal.rows("SELECT action, subject_kind FROM staff_actions")
    assert (action.action, action.subject_kind) == ("requests.sent", "request_batch")


def test_a_send_of_many_goes_in_batches_and_reaches_everyone_once(portal):
    add_people(portal, 450)
    login_as(portal, "texting")
    done = send(portal)
    assert "451 of 451 processed" in done.text and "<strong>451</strong>" in done.text
    emails = request_emails(portal)
    assert len(emails) == 451 and len({e.recipient for e in emails}) == 451


def test_a_double_clicked_send_queues_once(portal):
    login_as(portal, "texting")
    page = portal.client.get("/staff/requests").text
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
    first = portal.client.post("/staff/requests", data=form, follow_redirects=False)
    second = portal.client.post("/staff/requests", data=form, follow_redirects=False)
    assert first.headers["location"] + "?already=1" == second.headers["location"]
    wait_for_sends(portal)
    assert "not started twice" in portal.client.get(second.headers["location"]).text
    assert len(request_emails(portal)) == 1
    assert len(portal.rows("SELECT id FROM request_batches")) == 1


def test_a_stop_between_preview_and_send_is_honoured(portal):
    login_as(portal, "texting")
    page = portal.client.get(f"/staff/requests?{EVERYONE_WITH_OR_WITHOUT_EMAIL}").text
    assert "<strong>1</strong> person will get the CLICK HERE email" in page  # Jordan
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
    receive_text(portal, "+12015550102", "STOP", "SM" + "c" * 32)
    response = portal.client.post("/staff/requests", data=form)
    wait_for_sends(portal)
    result = portal.client.get(response.url.path).text
    assert "<strong>0</strong> request emails queued" in result
    assert "Number replied STOP: only START" in result and "Jordan Parker" in result
    assert "jordan@demo.example" not in [e.recipient for e in request_emails(portal)]


def recorded_but_not_running(portal, token: str) -> int:
    """A send recorded as its Send button records it, whose sending has not begun yet."""
    staff = portal.rows("SELECT id FROM accounts WHERE email = 'texting@staff.example'")[0].id

    async def record():
        async with portal.ctx.db.write() as conn:
            actor = Actor(kind="staff", label="Texting Staff", account_id=staff)
            batch, _ = await bulk_requests.start(
                conn,
                portal.ctx,
                selection=bulk_requests.Selection(),
                send_token=token,
                actor=actor,
            )
            return batch.id

    return portal.call(record)


def test_an_identical_send_is_not_started_while_one_runs(portal):
    login_as(portal, "texting")
    running = recorded_but_not_running(portal, "t" * 32)
    page = portal.client.get("/staff/requests").text
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
    response = portal.client.post("/staff/requests", data=form, follow_redirects=False)
    assert response.headers["location"] == f"/staff/requests/{running}?already=1"
    assert len(portal.rows("SELECT id FROM request_batches")) == 1
    assert request_emails(portal) == []


def test_the_progress_page_refreshes_until_done_and_a_stalled_send_carries_on(portal):
    login_as(portal, "texting")
    token = TOKEN_RE.search(portal.client.get("/staff/requests").text).group(1)
    batch_id = recorded_but_not_running(portal, token)
    path = f"/staff/requests/{batch_id}"
    running = portal.client.get(path).text
    assert '<meta name="portal-refresh" content="2">' in running and "Carry on" not in running
    assert f'href="{path}">Check again' in running
    portal.ctx.clock.advance(minutes=3)  # its process stopped part-way
    stalled = portal.client.get(path).text
    assert "Stopped part-way" in stalled and "portal-refresh" not in stalled
    portal.post(f"{path}/resume", {}, token_from=path)
    wait_for_sends(portal)
    assert "<strong>1</strong> request email queued" in portal.client.get(path).text
    assert [e.recipient for e in request_emails(portal)] == ["jordan@demo.example"]


def test_a_viewer_and_a_parent_can_neither_preview_nor_send(portal):
    login_as(portal, "viewer")
    token = portal.csrf("/staff/people")
    assert portal.client.get("/staff/requests").status_code == 403
    data = {"send_token": "x" * 32, "csrf_token": token}
    assert portal.client.post("/staff/requests", data=data).status_code == 403
    login_as(portal, "texting")
    batch_id = recorded_but_not_running(portal, "v" * 32)
    login_as(portal, "viewer")
    token = portal.csrf("/staff/people")
    assert portal.client.get(f"/staff/requests/{batch_id}").status_code == 403
    resume = portal.client.post(f"/staff/requests/{batch_id}/resume", data={"csrf_token": token})
    assert resume.status_code == 403
    portal.client.cookies.clear()
    portal.login()
    token = portal.csrf("/account/settings")
    assert portal.client.get("/staff/requests").status_code == 403
    data = {"send_token": "x" * 32, "csrf_token": token}
    assert portal.client.post("/staff/requests", data=data).status_code == 403
    assert len(portal.rows("SELECT id FROM request_batches")) == 1 and request_emails(portal) == []


@pytest.mark.parametrize(
    "data, status",
    [
        ({"send_token": "short"}, 400),
        ({"send_token": "x" * 32, "chosen": "1", "family": "9" * 30}, 404),
        ({"send_token": "x" * 32, "chosen": "1", "family": "99999999"}, 404),
    ],
)
def test_bad_send_input_changes_nothing(portal, data, status):
    login_as(portal, "texting")
    response = portal.post("/staff/requests", data, token_from="/staff/requests")
    assert response.status_code == status
    assert portal.rows("SELECT id FROM request_batches") == [] and request_emails(portal) == []


def test_unknown_sends_and_families_are_not_found(portal):
    login_as(portal, "texting")
    assert portal.client.get("/staff/requests?family=99999999").status_code == 404
    assert portal.client.get("/staff/requests?family=" + "9" * 30).status_code == 404
    assert portal.client.get("/staff/requests/99999999").status_code == 404
    assert portal.client.get("/staff/requests/" + "9" * 30).status_code == 404
