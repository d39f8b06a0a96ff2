"""The batched import command writes exactly what set_texting would, answer by answer."""

from __future__ import annotations

from portal.consent import commands
from portal.consent.rules import Actor, Channel, ConsentError
from portal.people import roster

HEADER = "family,kind,first_name,last_name,email,cell_phone,texting,consent_note\n"
STAFF = Actor(kind="staff", label="Office <office@real.example>")
HANDSET = Actor(kind="handset", label="handset")
FAMILIES = 400  # five people each: two contacts and three students


class Undone(Exception):
    """Raised to roll a path's transaction back, so the other starts from the same state."""


def _roster() -> str:
    rows = []
    for f in range(FAMILIES):
        number = f"20155{60000 + f:05d}"
        rows.append(f"Fam{f},contact,Ada{f},Fam{f},ada{f}@real.example,{number},,")
        rows.append(f"Fam{f},contact,Bo{f},Fam{f},bo{f}@real.example,20156{60000 + f:05d},,")
        # Two students share the first contact's number; one has a number of its own.
        rows.append(f"Fam{f},student,Cy{f},Fam{f},,{number},,")
        rows.append(f"Fam{f},student,Di{f},Fam{f},,{number},,")
        rows.append(f"Fam{f},student,Ed{f},Fam{f},,20157{60000 + f:05d},,")
    return HEADER + "\n".join(rows) + "\n"


async def _history(ctx, ids: dict[str, int]) -> None:
    """Every kind of past a chunk may meet: answers of their own, an import's earlier record,
    a STOP, a block, and a number changed since its answer."""
    async with ctx.db.write() as conn:
        for f in range(FAMILIES):
            kind = f % 8
            if kind == 1:  # their own answer, by staff with evidence
                await commands.staff_set_texting(
                    conn, ctx, person_id=ids[f"Bo{f}"], allow=False, actor=STAFF, note="phoned"
                )
            elif kind == 2:  # an earlier import's record, which an import may correct
                for name in (f"Ada{f}", f"Cy{f}"):
                    await commands.set_texting(
                        conn,
                        ctx,
                        person_id=ids[name],
                        allow=True,
                        channel=Channel.IMPORT,
                        actor=roster.ACTOR,
                        evidence={"note": "earlier form"},
                    )
            elif kind == 3:  # the shared number replied STOP
                await commands.suppress_number(
                    conn,
                    ctx,
                    phone=f"+120155{60000 + f:05d}",
                    channel=Channel.SMS_KEYWORD,
                    actor=HANDSET,
                    evidence={"body": "STOP"},
                )
            elif kind == 4:
                await commands.block(conn, ctx, person_id=ids[f"Ed{f}"], actor=STAFF, reason="x")
            elif kind == 5:  # a START from the student's own number: opted in already
                await commands.set_texting(
                    conn,
                    ctx,
                    person_id=ids[f"Ed{f}"],
                    allow=True,
                    channel=Channel.SMS_KEYWORD,
                    actor=HANDSET,
                    evidence={"body": "START"},
                )


def _answers(ids: dict[str, int]) -> list[commands.ImportedAnswer]:
    answers = []
    for line, person_id in enumerate(sorted(ids.values())):
        allow = line % 7 not in (3, 5)  # mostly yes, some no
        note = {"note": "registration form", "import_line": line + 2}
        answers.append(commands.ImportedAnswer(person_id=person_id, allow=allow, evidence=note))
    return answers


async def _written(ctx, apply) -> tuple:
    """What `apply` returns and writes (new events, every state, new outbox rows), compared
    without ids: then undone."""
    async with ctx.db.read() as conn:
        last_event = await conn.fetch_val("SELECT COALESCE(MAX(id), 0) FROM consent_events")
        last_outbox = await conn.fetch_val("SELECT COALESCE(MAX(id), 0) FROM outbox")
    try:
        async with ctx.db.write() as conn:
            outcomes = await apply(conn)
            events = await conn.fetch_all(
                "SELECT * FROM consent_events WHERE id > :id ORDER BY id", {"id": last_event}
            )
            states = await conn.fetch_all("SELECT * FROM consent_state ORDER BY person_id")
            texts = await conn.fetch_all(
                "SELECT * FROM outbox WHERE id > :id ORDER BY id", {"id": last_outbox}
            )
            raise Undone
    except Undone:
        pass
    position = {event.id: n for n, event in enumerate(events)}
    return (
        outcomes,
        [{k: v for k, v in event.items() if k != "id"} for event in events],
        [
            {**state, "last_event_id": position.get(state.last_event_id, state.last_event_id)}
            for state in states
        ],
        [{k: v for k, v in text.items() if k not in ("id", "message_id")} for text in texts],
    )


def _outcome(result) -> tuple:
    if isinstance(result, ConsentError):
        return ("refused", result.code)
    return ("change", result.person_id, result.old_status, result.new_status, result.changed)


def test_a_batch_writes_the_same_ledger_state_and_texts_as_set_texting_one_by_one(portal):
    ctx = portal.ctx
    assert portal.call(roster.import_roster, ctx, _roster().encode()).ok
    ids = {
        row.first_name: row.id
        for row in portal.rows("SELECT id, first_name FROM people WHERE last_name LIKE 'Fam%'")
    }
    portal.call(_history, ctx, ids)
    answers = _answers(ids)

    async def batched(conn):
        outcomes = await commands.import_texting(conn, ctx, answers, actor=roster.ACTOR)
        return [_outcome(outcome) for outcome in outcomes]

    async def one_by_one(conn):
        outcomes = []
        for answer in answers:
            try:
                outcome = await commands.set_texting(
                    conn,
                    ctx,
                    person_id=answer.person_id,
                    allow=answer.allow,
                    channel=Channel.IMPORT,
                    actor=roster.ACTOR,
                    evidence=answer.evidence,
                )
            except ConsentError as refusal:
                outcome = refusal
            outcomes.append(_outcome(outcome))
        return outcomes

    expected = portal.call(_written, ctx, one_by_one)
    found = portal.call(_written, ctx, batched)
    assert found[0] == expected[0]
    assert found[1] == expected[1]
    assert found[2] == expected[2]
    assert found[3] == expected[3]
    # The scenario meets every case: refusals, unchanged answers, changes, one text a number.
    kinds = {outcome[0] if outcome[0] == "refused" else outcome[-1] for outcome in found[0]}
    assert kinds == {"refused", True, False}
    assert 0 < len(found[3]) < len([o for o in found[0] if o[-1] is True])
    assert len(found[1]) > 1000


def test_an_empty_batch_writes_nothing(portal):
    async def batched(conn):
        return await commands.import_texting(conn, portal.ctx, [], actor=roster.ACTOR)

    assert portal.call(_written, portal.ctx, batched)[:2] == ([], [])
