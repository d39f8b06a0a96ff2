"""The staff People list: Search by name, email or a number typed any way; filters; pages."""

from __future__ import annotations

import re

import pytest
from staff_steps import login_as, receive_text

from portal.clock import to_db
from portal.consent import commands
from portal.consent.rules import Actor, Channel
from portal.db import people as people_rows
from portal.db import people_search

NAME_RE = re.compile(r'class="person-name" href="/staff/people/\d+">([^<]+)</a>')


def names(page) -> list[str]:
    return NAME_RE.findall(page.text)


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("(201) 555-0103", ["Avery Parker"]),
        ("2015550103", ["Avery Parker"]),
        ("+1 201 555 0103", ["Avery Parker"]),
        ("201.555.0103", ["Avery Parker"]),
        ("0103", ["Avery Parker"]),
        ("555-0103", ["Avery Parker"]),
        ("5550103", ["Avery Parker"]),
        ("556-0103", []),
        ("+1 201 555 011", ["Morgan Lee", "Casey Lee"]),
        ("ave", ["Avery Parker"]),
        ("PARK", ["Avery Parker", "Jordan Parker", "Pat Parker", "Sam Parker"]),
        ("jordan p", ["Jordan Parker"]),
        ("jordan@", ["Jordan Parker"]),
        ("nobody-here", []),
    ],
)
def test_search_finds_a_name_an_email_or_a_number_typed_any_way(portal, typed, found):
    login_as(portal, "viewer")
    page = portal.client.get("/staff/people", params={"q": typed})
    assert page.status_code == 200
    assert sorted(names(page)) == sorted(found)


def test_filters_by_status_and_by_family(portal):
    login_as(portal, "viewer")

    def filtered(**params) -> list[str]:
        return sorted(names(portal.client.get("/staff/people", params=params)))

    assert filtered(status="allowed") == ["Avery Parker", "Casey Lee", "Morgan Lee", "Pat Parker"]
    assert filtered(status="never_asked") == ["Jordan Parker"]
    assert filtered(status="no_phone") == ["Sam Parker"]
    assert filtered(status="stopped") == []
    family = portal.rows("SELECT family_id FROM people WHERE first_name = 'Morgan'")[0].family_id
    assert filtered(family=str(family)) == ["Casey Lee", "Morgan Lee"]
    assert portal.client.get("/staff/people", params={"family": "9" * 30}).status_code == 404
    assert filtered(status="not-a-status") == filtered()  # ignored, not an error


@pytest.mark.parametrize("few", [0, 10_000], ids=["walk-the-name-order", "start-from-the-few"])
def test_each_filter_finds_the_same_people_whichever_way_the_query_goes(portal, monkeypatch, few):
    """A status few hold is looked up from them, one many hold by walking names in order; a
    name beginning likewise. Either way the same people are found."""
    from portal.consent.commands import staff

    receive_text(portal, "+12015550112", "STOP")  # Casey
    office = Actor(kind="staff", label="Office")
    morgan, avery = portal.person_id("Morgan"), portal.person_id("Avery")

    async def change():
        async with portal.ctx.db.write() as conn:
            await staff.block(conn, portal.ctx, person_id=morgan, actor=office)
            await commands.set_texting(
                conn,
                portal.ctx,
                person_id=avery,
                allow=False,
                channel=Channel.STAFF,
                actor=office,
            )

    portal.call(change)
    monkeypatch.setattr(people_search, "FEW_HOLDERS", few)
    login_as(portal, "viewer")

    def filtered(**params) -> list[str]:
        return sorted(names(portal.client.get("/staff/people", params=params)))

    assert filtered(status="allowed") == ["Pat Parker"]
    assert filtered(status="not_allowed") == ["Avery Parker"]
    assert filtered(status="blocked") == ["Morgan Lee"]
    assert filtered(status="stopped") == ["Casey Lee"]
    assert filtered(status="never_asked") == ["Jordan Parker"]
    assert filtered(status="pending") == []
    assert filtered(q="pa") == ["Avery Parker", "Jordan Parker", "Pat Parker", "Sam Parker"]
    assert filtered(q="m", status="blocked") == ["Morgan Lee"]


def test_pages_follow_each_other_without_gaps_or_repeats(portal):
    async def crowd():
        async with portal.ctx.db.write() as conn:
            family = await people_rows.create_family(conn, name="Big", now=to_db(portal.ctx.now()))
            for n in range(120):
                await people_rows.create(
                    conn,
                    family_id=family,
                    kind="student",
                    first_name=f"Kid{n:03d}",
                    last_name="Zed",
                    email=None,
                    cell_phone=None,
                    now=to_db(portal.ctx.now()),
                )

    portal.call(crowd)
    login_as(portal, "viewer")
    seen, page = [], portal.client.get("/staff/people", params={"q": "zed"})
    while True:
        seen += names(page)
        more = re.search(r'href="(/staff/people\?[^"]*after=[^"]+)">Next page', page.text)
        if not more:
            break
        page = portal.client.get(more.group(1).replace("&amp;", "&"))
    assert seen == [f"Kid{n:03d} Zed" for n in range(120)]


def test_a_tampered_page_position_is_ignored(portal):
    login_as(portal, "viewer")
    page = portal.client.get("/staff/people", params={"after": "x\x1fy\x1f" + "9" * 40})
    assert page.status_code == 200 and len(names(page)) == 6
