"""The SMTP provider's messages and its several connections, against real aiosmtpd servers."""

from __future__ import annotations

import asyncio
import email
import email.policy
from types import SimpleNamespace

import pytest
from scripted_smtp import ScriptedSmtp

from portal.messaging.smtp import SmtpProvider, build_message

# Short, so the stalled server costs the test a fraction of a second.
TIMEOUT = 0.3
FROM = "Académie de Danse <no-reply@portal.example>"


def row(n: int, **changes) -> SimpleNamespace:
    fields = {
        "id": n,
        "recipient": f"p{n}@demo.example",
        "subject": f"Message {n}",
        "message_id": f"<m{n}@portal.example>",
        "body_text": f"Hello {n}.\n",
        "body_html": f"<p>Hello {n}.</p>\n",
        "reply_to": "",
    }
    return SimpleNamespace(**(fields | changes))


@pytest.fixture
def smtp_server():
    server = ScriptedSmtp().start()
    yield server
    server.stop()


def send(provider: SmtpProvider, rows: list) -> dict:
    async def work():
        try:
            return await provider.send_batch(rows)
        finally:
            await provider.close()

    return asyncio.run(work())


def test_a_message_reads_back_with_every_header_and_both_parts_in_any_language():
    long_line = "https://portal.example/text-consent/" + "x" * 120
    text = f"¿Nos permite enviarle mensajes?\n{long_line}\n"
    wire = build_message(
        row(1, subject="¿Mensajes de texto? Sí", body_text=text, reply_to="office@demo.example"),
        mail_from="Consent Portal <no-reply@portal.example>",
    )
    assert wire.isascii() and b"\r\n" in wire and b"\n" not in wire.replace(b"\r\n", b"")
    # Read as a mail client does, with its own line endings.
    message = email.message_from_bytes(wire.replace(b"\r\n", b"\n"), policy=email.policy.default)
    assert message["Subject"] == "¿Mensajes de texto? Sí"
    assert message["To"] == "p1@demo.example" and message["Reply-To"] == "office@demo.example"
    assert message["Message-ID"] == "<m1@portal.example>"
    assert message["Auto-Submitted"] == "auto-generated" and message["Date"]
    assert message.get_body(("plain",)).get_content() == text
    assert message.get_body(("html",)).get_content() == "<p>Hello 1.</p>\n"


@pytest.mark.parametrize("field", ["subject", "recipient", "message_id"])
def test_a_line_break_in_any_header_is_refused_before_anything_is_built(field):
    with pytest.raises(ValueError, match="line break"):
        build_message(row(1, **{field: "x\r\nBcc: someone@else.example"}), mail_from=FROM)


def test_several_connections_send_every_row_once_and_are_kept_for_the_next_batch(smtp_server):
    provider = SmtpProvider(
        host=smtp_server.host, port=smtp_server.port, tls="none", mail_from=FROM, connections=3
    )
    rows = [row(n) for n in range(20)]

    async def two_batches():
        try:
            return await provider.send_batch(rows[:10]) | await provider.send_batch(rows[10:])
        finally:
            await provider.close()

    outcomes = asyncio.run(two_batches())
    assert {n: o.kind for n, o in outcomes.items()} == {n: "sent" for n in range(20)}
    assert sorted(smtp_server.message_ids()) == sorted(r.message_id for r in rows)
    assert smtp_server.ehlo_seen == 3  # three connections, each kept for the second batch
    assert {m.mail_from for m in smtp_server.messages()} == {"no-reply@portal.example"}


def test_a_connection_lost_mid_batch_loses_none_of_the_other_connections_rows(smtp_server):
    # The first message to reach DATA, on whichever connection, is answered only after our
    # timeout, and that connection is dropped: its rows are told to retry, the other's go.
    smtp_server.data_answers.append(TIMEOUT * 4)
    provider = SmtpProvider(
        host=smtp_server.host,
        port=smtp_server.port,
        tls="none",
        mail_from=FROM,
        timeout=TIMEOUT,
        connections=2,
    )
    rows = [row(n) for n in range(10)]
    outcomes = send(provider, rows)
    sent = sorted(n for n, o in outcomes.items() if o.kind == "sent")
    retried = sorted(n for n, o in outcomes.items() if o.kind == "retry")
    assert sorted(sent + retried) == list(range(10))
    assert sent in ([0, 2, 4, 6, 8], [1, 3, 5, 7, 9])  # one connection's share, all of it
    # The server kept the late-answered message too: the retry of it is a second copy with
    # the same Message-ID (at least once), and nothing else arrived twice.
    late = rows[retried[0]].message_id
    assert sorted(smtp_server.message_ids()) == sorted([late] + [rows[n].message_id for n in sent])
