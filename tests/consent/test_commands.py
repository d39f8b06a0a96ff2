"""The consent rules of DESIGN.md section 2, against a real SQLite database."""

from __future__ import annotations

import json

import pytest

from portal.clock import to_db
from portal.consent import commands, requests, rules, wording
from portal.consent.rules import Actor, Channel, Status
from portal.db import ledger
from portal.db import people as people_rows

HANDSET = Actor(kind="handset", label="+12015550101")
STAFF = Actor(kind="staff", label="Office Admin <staff@demo.example>", account_id=3)


def in_write(portal, fn):
    """Run `fn(conn)` inside one write transaction of the app's database."""

    async def run():
        async with portal.ctx.db.write() as conn:
            return await fn(conn)

    return portal.call(run)


def set_texting(portal, person_id, allow, channel, actor, evidence=None):
    return in_write(
        portal,
        lambda conn: commands.set_texting(
            conn,
            portal.ctx,
            person_id=person_id,
            allow=allow,
            channel=channel,
            actor=actor,
            evidence=evidence,
        ),
    )


def pat_actor(portal) -> Actor:
    account = portal.rows("SELECT id, person_id FROM accounts WHERE email = 'parent@demo.example'")[
        0
    ]
    return Actor(
        kind="contact",
        label="Pat Parker <parent@demo.example>",
        account_id=account.id,
        person_id=account.person_id,
        ip="203.0.113.9",
        user_agent="pytest-browser",
    )


def person(portal, person_id):
    async def run():
        async with portal.ctx.db.read() as conn:
            return await people_rows.by_id(conn, person_id)

    return portal.call(run)


def may_text(portal, person_id) -> bool:
    async def run():
        async with portal.ctx.db.read() as conn:
            return await commands.may_text(conn, person_id)

    return portal.call(run)


def events(portal, person_id=None):
    if person_id is None:
        return portal.rows("SELECT * FROM consent_events ORDER BY id")
    return portal.rows(
        "SELECT * FROM consent_events WHERE person_id = :p ORDER BY id", {"p": person_id}
    )


def outbox(portal, template=None):
    rows = portal.rows("SELECT * FROM outbox ORDER BY id")
    return [r for r in rows if template is None or r.template == template]


def set_phone(portal, person_id, phone):
    """Write new details the way the account form does, then record the reset (rule 6)."""
    actor = pat_actor(portal)

    async def fn(conn):
        await conn.execute(
            "UPDATE people SET cell_phone = :phone WHERE id = :id",
            {"phone": phone, "id": person_id},
        )
        return await commands.change_phone(
            conn, portal.ctx, person_id=person_id, new_phone=phone, actor=actor
        )

    return in_write(portal, fn)


def stop(portal, phone):
    return in_write(
        portal,
        lambda conn: commands.suppress_number(
            conn,
            portal.ctx,
            phone=phone,
            channel=Channel.SMS_KEYWORD,
            actor=Actor(kind="handset", label=phone),
            evidence={"message_sid": "SM1", "body": "STOP"},
        ),
    )


def start(portal, phone, actor=None):
    return in_write(
        portal,
        lambda conn: commands.lift_suppression(
            conn,
            portal.ctx,
            phone=phone,
            actor=actor or Actor(kind="handset", label=phone),
            evidence={"message_sid": "SM2", "body": "START"},
        ),
    )


# --- opt-out is immediate from every channel (rule 3) -----------------------------------------


@pytest.mark.parametrize(
    "channel",
    [
        Channel.PORTAL,
        Channel.STAFF,
        Channel.EMAIL_LINK,
        Channel.SMS_KEYWORD,
        Channel.CARRIER,
        Channel.IMPORT,
    ],
)
def test_an_opt_out_is_immediate_from_every_channel(portal, channel):
    avery = portal.person_id("Avery")
    assert may_text(portal, avery)
    change = set_texting(portal, avery, False, channel, STAFF)
    assert change.changed and change.new_status == Status.OPTED_OUT
    assert not may_text(portal, avery)


def test_an_opt_out_needs_no_evidence_even_from_staff(portal):
    avery = portal.person_id("Avery")
    change = set_texting(portal, avery, False, Channel.STAFF, STAFF, evidence={})
    assert change.new_status == Status.OPTED_OUT


# --- opt-in (rule 4) ----------------------------------------------------------------------------


def test_a_parent_opts_themselves_in_directly(portal):
    pat = portal.person_id("Pat")
    set_texting(portal, pat, False, Channel.PORTAL, pat_actor(portal))
    change = set_texting(portal, pat, True, Channel.PORTAL, pat_actor(portal))
    assert change.new_status == Status.OPTED_IN
    assert may_text(portal, pat)


def test_a_parent_opts_their_student_in_directly(portal):
    avery = portal.person_id("Avery")
    set_texting(portal, avery, False, Channel.PORTAL, pat_actor(portal))
    change = set_texting(portal, avery, True, Channel.PORTAL, pat_actor(portal))
    assert change.new_status == Status.OPTED_IN
    assert may_text(portal, avery)


def test_another_adult_contact_becomes_pending_and_is_emailed_the_request(portal):
    jordan = portal.person_id("Jordan")
    change = set_texting(portal, jordan, True, Channel.PORTAL, pat_actor(portal))
    assert change.new_status == Status.PENDING
    assert not may_text(portal, jordan)
    [request] = outbox(portal, "consent_request")
    assert request.recipient == "jordan@demo.example"
    [mail] = portal.deliver()
    assert mail.to == ["jordan@demo.example"]
    assert "/text-consent/" in mail.text


@pytest.mark.parametrize("channel", [Channel.STAFF, Channel.IMPORT])
@pytest.mark.parametrize("evidence", [None, {}, {"note": ""}, {"note": "   "}])
def test_staff_and_import_opt_in_need_an_evidence_note(portal, channel, evidence):
    jordan = portal.person_id("Jordan")
    before = len(events(portal))
    with pytest.raises(rules.NeedsEvidence):
        set_texting(portal, jordan, True, channel, STAFF, evidence=evidence)
    assert len(events(portal)) == before
    assert not may_text(portal, jordan)


@pytest.mark.parametrize("channel", [Channel.STAFF, Channel.IMPORT])
def test_staff_and_import_opt_in_with_a_note_is_recorded_with_it(portal, channel):
    jordan = portal.person_id("Jordan")
    change = set_texting(portal, jordan, True, channel, STAFF, evidence={"note": "paper form"})
    assert change.new_status == Status.OPTED_IN
    [event] = events(portal, jordan)
    assert json.loads(event.evidence) == {"note": "paper form"}


@pytest.mark.parametrize("channel", [Channel.CARRIER, Channel.PHONE_CHANGE])
def test_channels_that_only_opt_out_cannot_opt_anyone_in(portal, channel):
    jordan = portal.person_id("Jordan")
    with pytest.raises(rules.ConsentError):
        set_texting(portal, jordan, True, channel, STAFF, evidence={"note": "x"})
    assert not may_text(portal, jordan)


def test_opt_in_without_a_phone_is_refused(portal):
    sam = portal.person_id("Sam")
    with pytest.raises(rules.NoPhone):
        set_texting(portal, sam, True, Channel.PORTAL, pat_actor(portal))
    assert events(portal, sam) == []


# --- STOP is per number and only START lifts it (rule 5) --------------------------------------


def test_stop_suppresses_the_number_for_everyone_who_has_it(portal):
    pat, avery = portal.person_id("Pat"), portal.person_id("Avery")
    set_phone(portal, avery, "+12015550101")  # Avery now shares Pat's number
    set_texting(portal, avery, True, Channel.PORTAL, pat_actor(portal))
    assert may_text(portal, pat) and may_text(portal, avery)

    result = stop(portal, "+12015550101")

    assert result.newly_suppressed
    assert {c.person_id for c in result.changes} == {pat, avery}
    assert not may_text(portal, pat) and not may_text(portal, avery)
    assert rules.texting_status(person(portal, pat)).code == "stopped"


def test_stop_covers_a_person_given_that_number_later(portal):
    stop(portal, "+12015550101")
    jordan = portal.person_id("Jordan")
    set_phone(portal, jordan, "+12015550101")
    assert rules.texting_status(person(portal, jordan)).code == "stopped"
    assert not may_text(portal, jordan)
    # No opt-in request goes to a number that replied STOP.
    assert outbox(portal, "consent_request") == []


@pytest.mark.parametrize("channel", [Channel.PORTAL, Channel.STAFF, Channel.EMAIL_LINK])
def test_portal_staff_and_link_cannot_lift_a_stop(portal, channel):
    pat = portal.person_id("Pat")
    stop(portal, "+12015550101")
    before = len(events(portal))
    with pytest.raises(rules.StopLocked):
        set_texting(portal, pat, True, channel, pat_actor(portal), evidence={"note": "verbal"})
    assert len(events(portal)) == before
    assert not may_text(portal, pat)


@pytest.mark.parametrize("kind", ["contact", "staff", "link", "system"])
def test_only_a_handset_can_lift_a_suppression(portal, kind):
    stop(portal, "+12015550101")
    with pytest.raises(rules.StopLocked):
        start(portal, "+12015550101", actor=Actor(kind=kind, label="someone"))
    assert not may_text(portal, portal.person_id("Pat"))


def test_start_from_the_handset_lifts_the_stop_and_opts_the_number_back_in(portal):
    pat = portal.person_id("Pat")
    stop(portal, "+12015550101")
    start(portal, "+12015550101")
    assert may_text(portal, pat)
    [lifted] = [e for e in events(portal) if e.person_id is None and e.new_status == "active"]
    assert lifted.actor_kind == "handset"


def test_a_second_stop_records_nothing_new(portal):
    stop(portal, "+12015550101")
    before = len(events(portal))
    mails = len(outbox(portal))
    again = stop(portal, "+12015550101")
    assert not again.changed and again.changes == []
    assert len(events(portal)) == before
    assert len(outbox(portal)) == mails


# --- a changed number (rule 6) ----------------------------------------------------------------


def test_a_phone_change_resets_to_not_opted_in_and_queues_a_request(portal):
    pat = portal.person_id("Pat")
    assert may_text(portal, pat)
    change = set_phone(portal, pat, "+12015550199")
    assert change.new_status == Status.NONE
    assert not may_text(portal, pat)
    [request] = outbox(portal, "consent_request")
    assert request.recipient == "parent@demo.example"
    [event] = events(portal, pat)[-1:]
    assert event.channel == Channel.PHONE_CHANGE and event.phone == "+12015550199"
    assert json.loads(event.evidence) == {"previous_phone": "+12015550101"}


def test_a_blocked_persons_new_number_is_reset_but_not_sent_a_request_they_could_not_answer(
    portal,
):
    pat = portal.person_id("Pat")
    office = Actor(kind="staff", label="office")
    in_write(portal, lambda conn: commands.block(conn, portal.ctx, person_id=pat, actor=office))
    change = set_phone(portal, pat, "+12015550199")
    assert change.new_status == Status.NONE
    assert outbox(portal, "consent_request") == []


def test_an_opt_in_given_for_an_older_number_does_not_carry_over(portal):
    pat = portal.person_id("Pat")
    # The number changes without the reset being recorded (an import, a bug elsewhere): the
    # opt-in on record is for the old number, so the answer must still be no.
    in_write(
        portal,
        lambda conn: conn.execute(
            "UPDATE people SET cell_phone = '+12015550199' WHERE id = :id", {"id": pat}
        ),
    )
    assert person(portal, pat).status == Status.OPTED_IN
    assert not may_text(portal, pat)
    assert rules.texting_status(person(portal, pat)).code == "not_allowed"


# --- may_text (rule 2) ------------------------------------------------------------------------


def test_may_text_is_false_for_pending(portal):
    jordan = portal.person_id("Jordan")
    set_texting(portal, jordan, True, Channel.PORTAL, pat_actor(portal))
    assert rules.texting_status(person(portal, jordan)).code == "pending"
    assert not may_text(portal, jordan)


def test_may_text_is_false_for_opted_out(portal):
    avery = portal.person_id("Avery")
    set_texting(portal, avery, False, Channel.PORTAL, pat_actor(portal))
    assert not may_text(portal, avery)


def test_may_text_is_false_for_a_blocked_person_even_when_opted_in(portal):
    avery = portal.person_id("Avery")
    in_write(
        portal,
        lambda conn: conn.execute("UPDATE people SET blocked = 1 WHERE id = :id", {"id": avery}),
    )
    assert person(portal, avery).status == Status.OPTED_IN
    assert not may_text(portal, avery)
    with pytest.raises(rules.Blocked):
        set_texting(portal, avery, True, Channel.PORTAL, pat_actor(portal))


def test_may_text_is_false_for_someone_who_does_not_exist(portal):
    assert not may_text(portal, 999_999)


# --- the ledger (rule 7) ----------------------------------------------------------------------


def test_every_change_appends_exactly_one_event_with_who_how_and_when(portal, clock):
    avery = portal.person_id("Avery")
    clock.advance(hours=2)
    before = len(events(portal))
    actor = pat_actor(portal)
    set_texting(portal, avery, False, Channel.PORTAL, actor)
    set_texting(portal, avery, True, Channel.PORTAL, actor)
    new = events(portal)[before:]
    assert len(new) == 2
    off, on = new
    for event in new:
        assert event.person_id == avery
        assert event.phone == "+12015550103"
        assert event.channel == Channel.PORTAL
        assert event.actor_kind == "contact"
        assert event.actor_account_id == actor.account_id
        assert event.actor_person_id == actor.person_id
        assert event.actor_label == actor.label
        assert event.ip == "203.0.113.9" and event.user_agent == "pytest-browser"
        assert event.created_at == to_db(clock.now())
    assert (off.old_status, off.new_status) == (Status.OPTED_IN, Status.OPTED_OUT)
    assert (on.old_status, on.new_status) == (Status.OPTED_OUT, Status.OPTED_IN)
    assert on.wording_version == wording.CURRENT_WORDING
    state = portal.rows("SELECT * FROM consent_state WHERE person_id = :p", {"p": avery})[0]
    assert state.last_event_id == on.id and state.status == Status.OPTED_IN


def test_the_ledger_refuses_update(portal):
    async def tamper(conn):
        await conn.execute("UPDATE consent_events SET new_status = 'opted_in'")

    with pytest.raises(Exception, match="consent_events is append-only"):
        in_write(portal, tamper)


def test_the_ledger_refuses_delete(portal):
    count = len(events(portal))

    async def tamper(conn):
        await conn.execute("DELETE FROM consent_events")

    with pytest.raises(Exception, match="consent_events is append-only"):
        in_write(portal, tamper)
    assert len(events(portal)) == count


@pytest.mark.parametrize("allow", [True, False])
def test_the_same_choice_twice_records_nothing_new(portal, allow):
    avery = portal.person_id("Avery")
    first = set_texting(portal, avery, allow, Channel.PORTAL, pat_actor(portal))
    before, mails = len(events(portal)), len(outbox(portal))
    again = set_texting(portal, avery, allow, Channel.PORTAL, pat_actor(portal))
    assert not again.changed
    assert len(events(portal)) == before
    assert len(outbox(portal)) == mails
    assert first.new_status == again.new_status


def test_turning_on_a_pending_contact_again_sends_no_second_request(portal):
    jordan = portal.person_id("Jordan")
    set_texting(portal, jordan, True, Channel.PORTAL, pat_actor(portal))
    set_texting(portal, jordan, True, Channel.PORTAL, pat_actor(portal))
    assert len(outbox(portal, "consent_request")) == 1
    assert len(events(portal, jordan)) == 1


def test_the_current_state_always_matches_the_last_ledger_event(portal):
    avery = portal.person_id("Avery")
    set_texting(portal, avery, False, Channel.PORTAL, pat_actor(portal))
    stop(portal, "+12015550103")
    state = in_write(portal, lambda conn: ledger.state_for_update(conn, avery))
    last = events(portal, avery)[-1]
    assert state.status == last.new_status == Status.OPTED_OUT


def test_an_archived_person_is_never_textable_and_never_asked(portal):
    pat = portal.person_id("Pat")
    assert may_text(portal, pat)
    in_write(
        portal,
        lambda conn: conn.execute(
            "UPDATE people SET archived_at = '2026-11-20T00:00:00Z' WHERE id = :id", {"id": pat}
        ),
    )
    assert not may_text(portal, pat)
    assert requests.why_not_askable(person(portal, pat)) == "archived: has left the organization"
