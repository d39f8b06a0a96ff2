"""Roster import across chunk boundaries, and a row refused in the middle of a chunk."""

from __future__ import annotations

from portal.consent import commands
from portal.consent.rules import Actor, Channel
from portal.people import roster

HEADER = "family,kind,first_name,last_name,email,cell_phone,texting,consent_note\n"


def test_a_family_and_a_shared_number_split_across_chunks_are_one_family_and_one_text(
    portal, monkeypatch
):
    monkeypatch.setattr(roster, "CHUNK_ROWS", 3)
    csv = HEADER + (
        "Quinn,contact,Ava,Quinn,ava@real.example,2015550161,yes,registration form\n"
        "Quinn,contact,Ben,Quinn,ben@real.example,2015550162,no,\n"
        "Other,student,Oz,Other,,2015550170,,\n"
        # A new chunk: Ava's family again, and her number again.
        "Quinn,student,Cal,Quinn,,2015550161,yes,registration form\n"
        "Quinn,student,Dot,Quinn,,2015550163,yes,registration form\n"
        "Other,student,Pip,Other,,2015550161,yes,registration form\n"
        "Last,student,Zed,Last,,,,\n"
    )
    written: list[int] = []
    report = portal.call(
        roster.import_roster, portal.ctx, csv.encode(), progress=lambda d, t: written.append(d)
    )
    assert report.ok and report.created == 7 and report.consent_recorded == 5
    assert written == [3, 6, 7]
    families = portal.rows(
        "SELECT f.name, COUNT(*) AS n FROM people p JOIN families f ON f.id = p.family_id"
        " WHERE f.name IN ('Quinn', 'Other', 'Last') GROUP BY f.id, f.name ORDER BY f.name"
    )
    assert [(f.name, f.n) for f in families] == [("Last", 1), ("Other", 2), ("Quinn", 4)]
    texts = portal.rows(
        "SELECT recipient, person_id FROM outbox WHERE template = 'opt_in_confirmation' ORDER BY id"
    )
    assert [t.recipient for t in texts] == ["+12015550161", "+12015550163"]
    assert texts[0].person_id == portal.person_id("Ava")
    events = portal.rows(
        "SELECT p.first_name, e.new_status, e.evidence FROM consent_events e"
        " JOIN people p ON p.id = e.person_id WHERE e.channel = 'import'"
        " AND p.last_name IN ('Quinn', 'Other') ORDER BY e.id"
    )
    assert [(e.first_name, e.new_status) for e in events] == [
        ("Ava", "opted_in"),
        ("Ben", "opted_out"),
        ("Cal", "opted_in"),
        ("Dot", "opted_in"),
        ("Pip", "opted_in"),
    ]
    assert '"import_line": 5' in events[2].evidence
    # Importing it again, chunk by chunk, changes nothing.
    again = portal.call(roster.import_roster, portal.ctx, csv.encode())
    assert again.ok and again.created == 0 and again.consent_recorded == 0


def test_a_stop_between_the_check_and_the_write_refuses_only_its_row_of_the_chunk(
    portal, monkeypatch
):
    """The STOP for the middle row's number arrives after the file was checked: that row is
    not opted in and says why; the rest of its chunk, before and after it, is written."""
    checked = roster.plan

    async def plan_then_stop(conn, rows, report):
        await checked(conn, rows, report)
        async with portal.ctx.db.write() as stop:
            await commands.suppress_number(
                stop,
                portal.ctx,
                phone="+12015550182",
                channel=Channel.SMS_KEYWORD,
                actor=Actor(kind="handset", label="handset"),
                evidence={"body": "STOP"},
            )

    monkeypatch.setattr(roster, "plan", plan_then_stop)
    csv = HEADER + "".join(
        f"Mid,contact,Ann{n},Mid,ann{n}@real.example,20155501{80 + n},yes,paper form\n"
        for n in range(5)
    )
    report = portal.call(roster.import_roster, portal.ctx, csv.encode())
    assert report.ok and report.created == 5 and report.consent_recorded == 4
    [refused] = [plan for plan in report.plans if plan.notes]
    assert refused.row.first_name == "Ann2"
    assert refused.notes == ["not opted in: the number replied STOP during the import"]
    opted_in = portal.rows(
        "SELECT p.first_name FROM consent_state s JOIN people p ON p.id = s.person_id"
        " WHERE s.status = 'opted_in' AND p.last_name = 'Mid' ORDER BY p.id"
    )
    assert [p.first_name for p in opted_in] == ["Ann0", "Ann1", "Ann3", "Ann4"]
    texts = portal.rows(
        "SELECT recipient FROM outbox WHERE template = 'opt_in_confirmation' ORDER BY id"
    )
    assert "+12015550182" not in [t.recipient for t in texts] and len(texts) == 4
