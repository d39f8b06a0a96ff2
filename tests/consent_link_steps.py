"""Steps shared by the tests of emailed consent links: ask Jordan, answer, read the ledger."""

from __future__ import annotations

import re

LINK_RE = re.compile(r"http://portal\.test(/text-consent/[A-Za-z0-9._\-]+)")


def request_link_for_jordan(parent) -> str:
    """The demo parent turns texting on for Jordan, who gets the CLICK HERE email."""
    response = parent.save_person("Jordan", allow_texting=True)
    assert "Waiting for Jordan to confirm" in response.text
    [request] = [m for m in parent.deliver() if m.to == ["jordan@demo.example"]]
    parent.mailbox.clear()
    parent.client.cookies.clear()  # Jordan opens the email on their own phone, not logged in
    return LINK_RE.search(request.text).group(1)


def consent_events(portal) -> int:
    return len(portal.rows("SELECT id FROM consent_events"))


def status_of(portal, first_name: str) -> str:
    row = portal.rows(
        "SELECT status FROM consent_state s JOIN people p ON p.id = s.person_id"
        " WHERE p.first_name = :n",
        {"n": first_name},
    )
    return row[0].status if row else "none"


def answer(portal, path: str, choice: str, **extra):
    # An anonymous visitor's CSRF token is the same on every page (bound to their cookie), so
    # a replayed or tampered link can be posted to even when its page shows no form.
    return portal.post(path, {"answer": choice, **extra}, token_from="/login")
