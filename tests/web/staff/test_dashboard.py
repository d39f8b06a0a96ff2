"""The staff dashboard: people counted by status, the 90-day chart and its table, the latest
events."""

from __future__ import annotations

import datetime as dt
import re

from portal.clock import to_db
from portal.consent import commands, rules
from portal.consent.rules import Actor, Channel
from portal.db import people as people_rows
from portal.people import demo

STAFF = Actor(kind="staff", label="Office", ip="203.0.113.9", user_agent="pytest")
HANDSET = Actor(kind="handset", label="+12015550111")


def _put_everyone_in_a_different_status(portal) -> None:
    """Demo data, then one person or more in every staff status, and an archived one."""
    ctx = portal.ctx
    pat, avery = portal.person_id("Pat"), portal.person_id("Avery")
    jordan = portal.person_id("Jordan")

    async def arrange():
        async with ctx.db.write() as conn:
            now = to_db(ctx.now())
            family = (await people_rows.by_id(conn, pat)).family_id
            # Avery: staff turned texting off ("texts not allowed").
            await commands.set_texting(
                conn, ctx, person_id=avery, allow=False, channel=Channel.STAFF, actor=STAFF
            )
            # Jordan: the parent turned it on for another adult, who has not said yes yet.
            await conn.execute(
                "UPDATE people SET email_confirmed = 1 WHERE id = :id", {"id": jordan}
            )
            await commands.set_texting(
                conn,
                ctx,
                person_id=jordan,
                allow=True,
                channel=Channel.PORTAL,
                actor=Actor(kind="contact", label="Pat", person_id=pat),
            )
            # Morgan's number replied STOP.
            await commands.suppress_number(
                conn,
                ctx,
                phone="+12015550111",
                channel=Channel.SMS_KEYWORD,
                actor=HANDSET,
                evidence={"body": "STOP"},
            )
            # Two never asked, one of them blocked, and one archived (left out of the counts).
            for name, phone in (
                ("Riley", "+12015550121"),
                ("Blake", "+12015550122"),
                ("Gone", "+12015550123"),
            ):
                await people_rows.create(
                    conn,
                    family_id=family,
                    kind="student",
                    first_name=name,
                    last_name="Parker",
                    email=None,
                    cell_phone=phone,
                    now=now,
                )
            await conn.execute("UPDATE people SET blocked = 1 WHERE first_name = 'Blake'")
            await conn.execute(
                "UPDATE people SET archived_at = :now WHERE first_name = 'Gone'", {"now": now}
            )

    portal.call(arrange)


def _expected_counts(portal) -> dict[str, int]:
    """The counts as consent.rules decides each person's status, one person at a time."""

    async def everyone():
        async with portal.ctx.db.read() as conn:
            return await people_rows.all_people(conn)

    archived = {
        row.id for row in portal.rows("SELECT id FROM people WHERE archived_at IS NOT NULL")
    }
    counts = dict.fromkeys(rules.STAFF_FILTERS, 0)
    for person in portal.call(everyone):
        if person.id in archived:
            continue
        status = rules.texting_status(person)
        counts["never_asked" if status.never_asked else status.code] += 1
    return counts


def _shown_counts(page: str) -> dict[str, int]:
    found = re.findall(r'href="/staff/people\?status=(\w+)"><span class="dash-number">(\d+)<', page)
    return {code: int(count) for code, count in found}


def test_the_dashboard_counts_people_in_every_status_as_the_consent_rules_decide(portal):
    _put_everyone_in_a_different_status(portal)
    portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    page = portal.client.get("/staff/")
    assert page.status_code == 200
    shown = _shown_counts(page.text)
    assert shown == _expected_counts(portal)
    assert shown == {
        "allowed": 2,  # Pat, Casey
        "not_allowed": 1,  # Avery
        "pending": 1,  # Jordan
        "stopped": 1,  # Morgan
        "never_asked": 1,  # Riley
        "blocked": 1,  # Blake
        "no_phone": 1,  # Sam
    }
    for words in (
        "Texts allowed",
        "Waiting for an answer",
        "Replied STOP",
        "Never asked",
        "Blocked",
        "No cell phone",
        "Texts not allowed",
    ):
        assert words in page.text


def test_the_counts_follow_every_change_made_after_the_dashboard_was_seen(portal):
    """The counts are reused while nothing changed; each kind of change shows at once."""
    portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    assert _shown_counts(portal.client.get("/staff/").text) == _expected_counts(portal)
    _put_everyone_in_a_different_status(portal)  # events, new people, a block, an archive
    assert _shown_counts(portal.client.get("/staff/").text) == _expected_counts(portal)
    # An edit that writes no ledger event: Riley's phone removed (now "No cell phone").
    riley = portal.person_id("Riley")

    async def remove_phone():
        async with portal.ctx.db.write() as conn:
            later = to_db(portal.ctx.now() + dt.timedelta(seconds=1))
            await conn.execute(
                "UPDATE people SET cell_phone = NULL, updated_at = :now WHERE id = :id",
                {"id": riley, "now": later},
            )

    portal.call(remove_phone)
    shown = _shown_counts(portal.client.get("/staff/").text)
    assert shown == _expected_counts(portal)
    assert shown["no_phone"] == 2 and shown["never_asked"] == 0


def test_each_count_links_to_the_people_list_filtered_by_its_status(portal):
    portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    page = portal.client.get("/staff/").text
    people = portal.app.url_path_for("staff.people")
    for code in rules.STAFF_FILTERS:
        assert f'href="{people}?status={code}"' in page


def _chart_table(page: str) -> list[tuple[str, str, int, int]]:
    table = page.split('id="chart-table"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(
        r"<tr><td>([\d-]+)</td><td>([^<]+)</td><td>(\d+)</td><td>(\d+)</td></tr>", table
    )
    return [(day, channel, int(ins), int(outs)) for day, channel, ins, outs in rows]


def test_the_charts_table_gives_the_opt_ins_and_opt_outs_of_the_last_90_days_by_channel(
    portal, clock
):
    ctx = portal.ctx
    avery, casey = portal.person_id("Avery"), portal.person_id("Casey")

    async def change(allow: bool, person_id: int, channel=Channel.STAFF):
        async with ctx.db.write() as conn:
            evidence = {"note": "paper form"}
            await commands.set_texting(
                conn,
                ctx,
                person_id=person_id,
                allow=allow,
                channel=channel,
                actor=STAFF,
                evidence=evidence,
            )

    async def stop_morgan():
        async with ctx.db.write() as conn:
            await commands.suppress_number(
                conn,
                ctx,
                phone="+12015550111",
                channel=Channel.SMS_KEYWORD,
                actor=HANDSET,
                evidence={"body": "STOP"},
            )

    clock.advance(days=100)  # the demo's import, 100 days ago, falls out of the window
    portal.call(change, False, avery)
    portal.call(change, False, casey)
    portal.call(stop_morgan)
    clock.advance(days=2)
    portal.call(change, True, avery)
    portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    page = portal.client.get("/staff/").text

    second = clock.now().date()
    first, second = (second - dt.timedelta(days=2)).isoformat(), second.isoformat()
    assert _chart_table(page) == [
        (first, "Reply text", 0, 1),  # Morgan's STOP counted once, not also as the number's
        (first, "Staff", 0, 2),
        (second, "Staff", 1, 0),
    ]
    svg = page.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert 'role="img"' in svg and "<title" in svg
    assert svg.count('class="dash-bar ch-staff"') == 2  # an opt-out column and an opt-in one
    assert svg.count('class="dash-bar ch-sms_keyword"') == 1
    assert "<script" not in page and "style=" not in page
    assert "1 opt-ins and 3 opt-outs" in page


def test_the_latest_events_say_what_changed_in_words_and_link_to_each_person(portal):
    _put_everyone_in_a_different_status(portal)
    portal.login(demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    page = portal.client.get("/staff/").text
    latest = page.split('id="latest-heading"', 1)[1]
    avery = portal.app.url_path_for("staff.person", person_id=portal.person_id("Avery"))
    assert f'href="{avery}">Avery Parker</a>' in latest
    assert "Texts allowed → <strong>Texts not allowed</strong>" in latest
    assert "Reply text" in latest and "The number (201) 555-0111" in latest
    assert "opted_out" not in latest  # words, not raw codes


def test_a_viewer_sees_the_dashboard(viewer):
    page = viewer.client.get("/staff/")
    assert page.status_code == 200 and "People by Text Opt-In status" in page.text


def test_a_parent_gets_403_for_the_dashboard(parent):
    assert parent.client.get("/staff/").status_code == 403
