"""Proof of consent as CSV: every event, and every cell safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io

from portal.consent import commands, export
from portal.consent.rules import Actor, Channel


def test_every_exported_cell_is_neutralised_not_only_names(portal):
    avery = portal.person_id("Avery")
    hostile = Actor(
        kind="staff", label="@SUM(1+1)", ip='=HYPERLINK("http://evil.example")', user_agent="-2"
    )

    async def record(conn):
        await commands.set_texting(
            conn,
            portal.ctx,
            person_id=avery,
            allow=False,
            channel=Channel.STAFF,
            actor=hostile,
            evidence={"note": "=cmd|' /C calc'!A0"},
        )

    async def write_out():
        async with portal.ctx.db.write() as conn:
            await record(conn)
        handle = io.StringIO()
        await export.export_ledger_csv(portal.ctx, handle)
        return handle.getvalue()

    rows = list(csv.DictReader(io.StringIO(portal.call(write_out))))
    last = rows[-1]
    assert last["ip"] == '\'=HYPERLINK("http://evil.example")'
    assert last["actor"] == "'@SUM(1+1)" and last["user_agent"] == "'-2"
    assert last["phone"].startswith("'+1")
    for row in rows:
        assert all(not value or value[0] not in "=+-@\t\r" for value in row.values())


def test_every_page_size_gives_the_same_csv_each_event_once_in_order(portal):
    """Page boundaries (one event a page, an exact multiple, a remainder, one page for all)
    neither drop, repeat nor reorder an event, and the evidence reads the same each time."""
    avery = portal.person_id("Avery")

    async def record(conn):
        for allow, note in ((False, 'Zoë said "no"'), (True, "form ✓"), (False, 'Zoë said "no"')):
            await commands.set_texting(
                conn,
                portal.ctx,
                person_id=avery,
                allow=allow,
                channel=Channel.STAFF,
                actor=Actor(kind="staff", label="Office"),
                evidence={"note": note, "by": "office"},
            )

    async def exported(page_size):
        return "".join([c async for c in export.ledger_csv_chunks(portal.ctx, page_size)])

    async def all_of_it():
        async with portal.ctx.db.write() as conn:
            await record(conn)
            events = await conn.fetch_val("SELECT COUNT(*) FROM consent_events")
        sizes = (1, 2, 3, events, events + 1)
        return events, {size: await exported(size) for size in sizes}

    events, by_size = portal.call(all_of_it)
    assert events >= 6
    whole = by_size[events + 1]
    assert all(text == whole for text in by_size.values())
    rows = list(csv.DictReader(io.StringIO(whole)))
    ids = [int(row["event_id"]) for row in rows]
    assert ids == sorted(set(ids)) and len(ids) == events
    notes = [row["evidence"] for row in rows if row["first_name"] == "Avery"][-3:]
    assert notes == [
        '{"by": "office", "note": "Zoë said \\"no\\""}',
        '{"by": "office", "note": "form ✓"}',
        '{"by": "office", "note": "Zoë said \\"no\\""}',
    ]
