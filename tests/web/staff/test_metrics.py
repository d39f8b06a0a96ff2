"""Reports and metrics: what became of each mass text (counts and a CSV naming everyone who
did not get it, and why), and the texting metrics page."""

from __future__ import annotations

import csv
import io
import re

import pytest
from staff_steps import add_person, login_as, receive_text, wait_for_queueing
from twilio_steps import status_in, with_twilio

TOKEN_RE = re.compile(r'name="send_token" value="([^"]+)"')


@pytest.fixture
def settings(settings, twilio):
    return with_twilio(settings, twilio)


def send(portal, body: str):
    """Preview a text to everyone, then click Send with the preview's one-time token."""
    page = portal.post("/staff/messages/preview", {"body": body}, token_from="/staff/messages")
    token = TOKEN_RE.search(page.text).group(1)
    form = {"body": body, "send_token": token}
    sent = portal.post("/staff/messages/send", form, token_from="/staff/messages")
    wait_for_queueing(portal)  # the texts are queued in the background, after Send answers
    return sent


def mass_text_id(portal) -> int:
    return portal.rows("SELECT id FROM mass_texts ORDER BY id DESC LIMIT 1")[0].id


def test_a_mass_text_report_counts_sent_delivered_failed_and_skipped_with_reasons(portal):
    add_person(portal, "Riley", "+12015550101")  # shares Pat's number
    receive_text(portal, "+12015550112", "STOP")  # Casey
    login_as(portal, "texting")
    send(portal, body="Class is on {first_name}")
    portal.deliver()
    by_phone = {r.recipient: r for r in portal.rows("SELECT recipient, provider_id FROM outbox")}
    assert status_in(portal, by_phone["+12015550101"].provider_id, "delivered").status_code == 204
    failed = status_in(
        portal, by_phone["+12015550103"].provider_id, "undelivered", ErrorCode="30003"
    )
    assert failed.status_code == 204
    page = portal.client.get(f"/staff/messages/{mass_text_id(portal)}").text
    counts = {
        name.strip(): int(n) for name, n in re.findall(r"<dt[^>]*>([^<]+)</dt><dd>(\d+)</dd>", page)
    }
    assert counts["Sent"] == 3
    assert counts["Delivered to the phone"] == 1
    assert counts["Failed"] == 1
    assert counts["Skipped"] == 4
    assert counts["Replied STOP"] == 1 and counts["Same number already receiving it"] == 1
    assert f'href="/staff/messages/{mass_text_id(portal)}/export.csv"' in page
    report = portal.client.get(f"/staff/messages/{mass_text_id(portal)}/export.csv").text
    outcome = {f"{r[0]} {r[1]}": r[3] for r in csv.reader(io.StringIO(report))}
    assert outcome["Pat Parker"] == "Delivered"
    assert outcome["Avery Parker"].startswith("Failed: ")


def test_the_report_csv_names_everyone_skipped_and_why_with_neutralised_cells(portal):
    add_person(portal, "=HYPERLINK(1)", None)
    add_person(portal, "Riley", "+12015550101")
    receive_text(portal, "+12015550112", "STOP")  # Casey
    login_as(portal, "texting")
    send(portal, body="Class is on {first_name}")
    receive_text(portal, "+12015550111", "STOP")  # Morgan, after it was queued
    portal.deliver()
    login_as(portal, "viewer")
    response = portal.client.get(f"/staff/messages/{mass_text_id(portal)}/export.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["first_name", "last_name", "phone", "outcome"]
    outcome = {f"{r[0]} {r[1]}": r[3] for r in rows[1:]}
    assert outcome["'=HYPERLINK(1) Parker"] == "Skipped: No cell phone"
    assert outcome["Jordan Parker"] == "Skipped: Texts not allowed"
    assert outcome["Casey Lee"] == "Skipped: Replied STOP"
    assert outcome["Sam Parker"] == "Skipped: No cell phone"
    assert outcome["Riley Parker"] == "Skipped: Same number already receiving it"
    assert outcome["Morgan Lee"] == "Not sent: texts not allowed when it was due"
    assert outcome["Pat Parker"] == "Sent"
    queued = portal.rows("SELECT id FROM outbox WHERE mass_text_id IS NOT NULL")
    assert len(rows) - 1 == len(queued) + 5
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    assert "'+12015550101" in {r[2] for r in rows}


def test_a_report_of_a_mass_text_that_does_not_exist_is_not_found(portal):
    login_as(portal, "viewer")
    assert portal.client.get("/staff/messages/999/export.csv").status_code == 404


def metric_cells(page: str, label: str) -> list[str]:
    row = re.search(rf'<th scope="row">{re.escape(label)}</th>(.*?)</tr>', page)
    return re.findall(r"<td[^>]*>([^<]*)</td>", row.group(1))


def test_metrics_count_staff_and_automatic_texts_segments_and_the_delivery_rate(portal):
    login_as(portal, "texting")
    send(portal, body="Class is on {first_name}. " + "x" * 170)  # two segments each
    portal.deliver()
    receive_text(portal, "+12015550103", "HELP")  # Avery: an automatic reply
    portal.deliver()
    sent = portal.rows(
        "SELECT template, segments, provider_id, sent_at FROM outbox"
        " WHERE channel = 'sms' AND status = 'sent' ORDER BY id"
    )
    staff = [t for t in sent if t.template == "mass_text"]
    automatic = [t for t in sent if t.template != "mass_text"]
    assert staff and automatic and {t.segments for t in staff} == {2}
    status_in(portal, staff[0].provider_id, "delivered")
    login_as(portal, "viewer")
    page = portal.client.get("/staff/messages/metrics")
    assert page.status_code == 200
    day = sent[0].sent_at[:10]
    cells = metric_cells(page.text, day)
    expected = [
        len(staff),
        2 * len(staff),
        len(automatic),
        sum(t.segments for t in automatic),
        1,
    ]
    assert [int(c) for c in cells[:5]] == expected
    assert cells[5] == f"{100 / len(sent):.0f}%"
    assert metric_cells(page.text, day[:7])[:5] == cells[:5]  # the month holds the same
    assert "<svg" in page.text and "ch-texts_staff" in page.text
    assert f"{day}, Staff texts: {len(staff)} sent" in page.text


def test_metrics_count_opt_outs_in_the_48_hours_after_each_mass_text(portal, clock):
    login_as(portal, "texting")
    send(portal, body="Class is on {first_name}")
    portal.deliver()
    receive_text(portal, "+12015550111", "STOP")  # Morgan, within the hour
    clock.advance(hours=49)
    receive_text(portal, "+12015550103", "STOP")  # Avery, too late to count
    page = portal.client.get("/staff/messages/metrics").text
    cell = r"\s*<td[^>]*>"
    row = re.search(rf"Class is on \{{first_name\}}</a></td>{cell}[^<]+</td>{cell}(\d+)</td>", page)
    assert row.group(1) == "1"


def test_a_parent_may_not_see_the_metrics(portal):
    portal.login()
    assert portal.client.get("/staff/messages/metrics").status_code == 403
