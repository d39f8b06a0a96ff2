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
