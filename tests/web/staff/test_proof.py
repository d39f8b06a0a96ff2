"""Proof of consent: the streamed ledger export and one page (and download) per number."""

from __future__ import annotations

import csv
import io

from portal.clock import to_db
from portal.consent import commands, export
from portal.consent.rules import Actor, Channel
from portal.consent.wording import CURRENT_WORDING, WORDINGS
from portal.people import demo

PAT_PHONE = "+12015550101"
HANDSET = Actor(kind="handset", label=PAT_PHONE)


def _write(portal, change):
    async def run():
        async with portal.ctx.db.write() as conn:
            await change(conn)

    portal.call(run)


def _stop(portal, phone: str = PAT_PHONE):
    _write(
        portal,
        lambda conn: commands.suppress_number(
            conn,
            portal.ctx,
            phone=phone,
            channel=Channel.SMS_KEYWORD,
            actor=Actor(kind="handset", label=phone),
            evidence={"body": "STOP", "message_sid": "SM123"},
        ),
    )


def test_the_ledger_export_streams_every_event_with_each_persons_status_today(portal):
    hostile = Actor(kind="staff", label="=HYPERLINK(1)", ip="+1", user_agent="@x")
    avery = portal.person_id("Avery")
    _write(
        portal,
        lambda conn: commands.set_texting(
            conn,
            portal.ctx,
            person_id=avery,
            allow=False,
            channel=Channel.STAFF,
            actor=hostile,
            evidence={"note": "-1+1"},
        ),
    )
    _stop(portal, "+12015550199")  # a number nobody has: a number-wide event only
    portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    with portal.client.stream("GET", "/staff/proof/export.csv") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
        body = "".join(response.iter_text())
    rows = list(csv.DictReader(io.StringIO(body)))
    events = portal.rows("SELECT id FROM consent_events ORDER BY id")
    assert [int(row["event_id"]) for row in rows] == [event.id for event in events]
    for row in rows:
        assert all(not value or value[0] not in "=+-@\t\r" for value in row.values())
    by_name = {row["first_name"]: row for row in rows}
    assert by_name["Pat"]["current_status"] == "allowed"
    last_avery = [row for row in rows if row["first_name"] == "Avery"][-1]
    assert last_avery["actor"] == "'=HYPERLINK(1)" and last_avery["ip"] == "'+1"
    assert last_avery["current_status"] == "not_allowed"
    number = rows[-1]
    assert (number["kind"], number["new_status"], number["current_status"]) == (
        "number",
        "suppressed",
        "stopped",
    )


def test_the_ledger_is_read_a_page_at_a_time_never_whole(portal):
    async def chunks():
        return [chunk async for chunk in export.ledger_csv_chunks(portal.ctx, page_size=2)]

    events = len(portal.rows("SELECT id FROM consent_events"))
    found = portal.call(chunks)
    assert found[0].startswith("event_id,created_at,")
    assert len(found) == 1 + -(-events // 2)  # the header, then one chunk per page of 2
    assert sum(chunk.count("\n") for chunk in found[1:]) >= events


def test_the_number_page_shows_an_opt_in_with_its_wording_text_and_address_and_a_later_stop(
    portal, clock
):
    # Pat turns texting off and on again in the portal: their own act, from their browser.
    portal.login()
    portal.save_person("Pat", allow_texting=False)
    portal.save_person("Pat", allow_texting=True)
    clock.advance(days=3)
    _stop(portal)
    portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)

    found = portal.client.get("/staff/proof", params={"phone": "(201) 555-0101"})
    assert found.status_code == 200
    assert found.url.path == f"/staff/proof/numbers/{PAT_PHONE}"
    page = found.text
    assert "Pat Parker" in page
    assert "This number replied STOP" in page  # Pat's status today
    # The portal opt-in: when, how, who acted, from which address, to which wording.
    assert "Portal" in page and "testclient" in page
    wording = WORDINGS[CURRENT_WORDING].split("{phone}")[1]
    assert wording.strip() in page and f"Version {CURRENT_WORDING}" in page
    # The later STOP, number-wide and for Pat, with its evidence.
    assert "Number opted out (STOP)" in page and "Reply text" in page and "SM123" in page
    assert page.index("Texts allowed</strong>") < page.index("Number opted out (STOP)")
    assert "The number (everyone with it)" in page
    card = page.split("Who has this number", 1)[1].split("Every change", 1)[0]
    assert "by Portal, to wording" in card and "Stopped" in card and "by Reply text" in card


def test_the_number_page_includes_archived_people_and_is_printable(portal):
    async def archive():
        async with portal.ctx.db.write() as conn:
            await conn.execute(
                "UPDATE people SET archived_at = :now WHERE first_name = 'Pat'",
                {"now": to_db(portal.ctx.now())},
            )

    portal.call(archive)
    portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    page = portal.client.get(f"/staff/proof/numbers/{PAT_PHONE}")
    assert page.status_code == 200
    assert "Pat Parker" in page.text and "archived" in page.text
    assert 'class="no-print"' in page.text
    css = portal.client.get("/static/portal.css").text
    assert "@media print" in css.split("/* Staff: dashboard, proof and import */")[1]


def test_the_number_download_has_the_same_rows_with_neutralised_cells(portal):
    _stop(portal)
    portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    response = portal.client.get(f"/staff/proof/numbers/{PAT_PHONE}/export.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    events = portal.rows(
        "SELECT id FROM consent_events WHERE phone = :p OR person_id = :id ORDER BY id",
        {"p": PAT_PHONE, "id": portal.person_id("Pat")},
    )
    assert [int(row["event_id"]) for row in rows] == [event.id for event in events]
    assert rows[0]["phone"] == "'" + PAT_PHONE
    assert "Message frequency varies" in rows[0]["wording_text"]
    for row in rows:
        assert all(not value or value[0] not in "=+-@\t\r" for value in row.values())


def test_malformed_huge_and_unknown_numbers_get_a_404_or_a_clear_error(portal):
    portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    for path in (
        "/staff/proof/numbers/12015550101",
        "/staff/proof/numbers/+1201555010a",
        "/staff/proof/numbers/+" + "9" * 400,
        "/staff/proof/numbers/%2B12015550101%00",
        f"/staff/proof/numbers/{'+1' + '2' * 14}/export.csv",
    ):
        assert portal.client.get(path).status_code == 404, path
    unknown = portal.client.get("/staff/proof/numbers/+12015550177")
    assert unknown.status_code == 404
    assert "Nobody has (201) 555-0177" in unknown.text
    assert portal.client.get("/staff/proof/numbers/+12015550177/export.csv").status_code == 404
    for typed in ("not a number", "1" * 500):
        page = portal.client.get("/staff/proof", params={"phone": typed})
        assert page.status_code == 400
        assert "does not look like a phone number" in page.text


PROOF_PATHS = (
    "/staff/proof",
    "/staff/proof/export.csv",
    f"/staff/proof/numbers/{PAT_PHONE}",
    f"/staff/proof/numbers/{PAT_PHONE}/export.csv",
)


def test_a_viewer_may_open_every_proof_page(viewer):
    for path in PROOF_PATHS:
        assert viewer.client.get(path).status_code == 200, path


def test_a_parent_gets_403_for_every_proof_page(parent):
    for path in PROOF_PATHS:
        assert parent.client.get(path).status_code == 403, path
