"""The pure consent rules: statuses from a person row, and what turning texting on means."""

from __future__ import annotations

import pytest

from portal.consent import rules
from portal.consent.rules import Actor, Channel, Status
from portal.db import Row


def person(**overrides) -> Row:
    base = {
        "id": 7,
        "kind": "contact",
        "first_name": "Jordan",
        "email": "jordan@example.org",
        "cell_phone": "+12015550102",
        "consent_phone": "+12015550102",
        "status": Status.OPTED_IN,
        "suppressed": 0,
        "blocked": 0,
        "email_confirmed": 1,
    }
    return Row({**base, **overrides})


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({}, "allowed"),
        ({"cell_phone": None}, "no_phone"),
        ({"suppressed": 1, "blocked": 1}, "stopped"),
        ({"blocked": 1}, "blocked"),
        ({"consent_phone": "+12015550199"}, "not_allowed"),
        ({"status": Status.PENDING}, "pending"),
        ({"status": Status.OPTED_OUT}, "not_allowed"),
    ],
)
def test_a_stop_outranks_everything_and_consent_never_moves_to_a_new_number(overrides, code):
    assert rules.texting_status(person(**overrides)).code == code


def test_a_parent_turning_on_another_adult_makes_them_pending():
    parent = Actor(kind="contact", label="Pat", person_id=1)
    assert rules.opt_in_status(person(), Channel.PORTAL, parent, {}) == Status.PENDING
    assert rules.opt_in_status(person(kind="student"), Channel.PORTAL, parent, {}) == (
        Status.OPTED_IN
    )


def test_staff_need_evidence_and_the_carrier_can_never_opt_anyone_in():
    staff = Actor(kind="staff", label="Office")
    with pytest.raises(rules.NeedsEvidence):
        rules.opt_in_status(person(), Channel.STAFF, staff, {"note": "  "})
    with pytest.raises(rules.WrongChannel):
        rules.opt_in_status(person(), Channel.CARRIER, staff, {})


def test_refusals_carry_a_code_and_no_english():
    with pytest.raises(rules.NeedsEmail) as refused:
        rules.opt_in_status(
            person(email=None), Channel.PORTAL, Actor("contact", "Pat", None, 1), {}
        )
    assert refused.value.code == "needs_email" and refused.value.first_name == "Jordan"
