"""An outbox email's bytes written directly in the common case, as the email package writes them.

Building an EmailMessage parses every header through `email.policy` and flattening it folds
them again: that cost several times more than sending the message. For the usual email
(plain ASCII addresses and subject, bodies of short ASCII lines) the bytes are simple to
write, and these are byte for byte those of `smtp.build_message` flattened by aiosmtplib over
a server that takes 8BITMIME, but for the random MIME boundary (bodies are encoded by the same
rules: 7bit, 8bit, quoted-printable or base64). A recipient that is not a plain ASCII address
returns None, and the email package builds the message as before; an unusual header is
rendered by the email package (and cached).
"""

from __future__ import annotations

import binascii
import functools
import random
import re
import sys
from email import quoprimime
from email.policy import SMTP as SMTP_POLICY

MAX_LINE = SMTP_POLICY.max_line_length  # 78: a longer line is folded or encoded
_ADDRESS = re.compile(r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")
_MESSAGE_ID = re.compile("<" + _ADDRESS.pattern + ">")
# Words of printable ASCII, one space apart, no encoded word (=?...?=) and none of the
# characters a header parser treats specially: the header stays as it is written.
_PLAIN_TEXT = re.compile(r"[A-Za-z0-9.,!'&/+_:;#%*-]+(?: [A-Za-z0-9.,!'&/+_:;#%*-]+)*")
_PLAIN = {"To": _ADDRESS, "Reply-To": _ADDRESS, "Message-ID": _MESSAGE_ID, "Subject": _PLAIN_TEXT}


@functools.lru_cache(maxsize=1024)
def _rendered(name: str, value: str) -> bytes:
    """A header as the email package writes it (From, Date and the like repeat: cached). Raises
    ValueError for a value with CR or LF, as setting it on a message does."""
    return SMTP_POLICY.fold_binary(*SMTP_POLICY.header_store_parse(name, value))


def _header(name: str, value: str) -> bytes:
    pattern = _PLAIN.get(name)
    if pattern is not None and pattern.fullmatch(value) and len(name) + 2 + len(value) <= MAX_LINE:
        return f"{name}: {value}\r\n".encode("ascii")
    return _rendered(name, value)


def _encoded(text: str) -> tuple[bytes, bytes]:
    """A text part's transfer encoding and body, chosen as the email package chooses (its
    contentmanager's heuristics under the SMTP policy, which takes 8bit) and written with CRLF
    line ends as its generator writes them."""
    lines = text.encode("utf-8").splitlines()
    if max((len(line) for line in lines), default=0) <= MAX_LINE:
        cte = b"7bit" if all(line.isascii() for line in lines) else b"8bit"
        return cte, b"\r\n".join(lines) + b"\r\n"
    # Long lines: quoted-printable, or base64 when the first ten lines come out shorter so.
    sniff = b"\r\n".join(lines[:10]) + b"\r\n"
    sniff_qp = quoprimime.body_encode(sniff.decode("latin-1"), MAX_LINE)
    if len(sniff_qp) > len(binascii.b2a_base64(sniff)):
        cte, data = b"base64", _base64(b"\r\n".join(lines) + b"\r\n")
    elif len(lines) <= 10:
        cte, data = b"quoted-printable", sniff_qp
    else:
        body = (b"\n".join(lines) + b"\n").decode("latin-1")
        cte, data = b"quoted-printable", quoprimime.body_encode(body, MAX_LINE)
    return cte, _NEWLINE.sub("\r\n", data).encode("ascii")


def _base64(data: bytes) -> str:
    step = MAX_LINE // 4 * 3
    return "".join(
        binascii.b2a_base64(data[i : i + step]).decode() for i in range(0, len(data), step)
    )


_NEWLINE = re.compile(r"\r\n|\r|\n")
_VERSION = b"MIME-Version: 1.0\r\n"


def _part_headers(subtype: bytes, cte: bytes) -> bytes:
    return (
        b"Content-Type: text/" + subtype + b'; charset="utf-8"\r\n'
        b"Content-Transfer-Encoding: " + cte + b"\r\n"
    )


def _boundary(*bodies: bytes) -> bytes:
    """As the email package makes one: random, and in no body."""
    while True:
        boundary = b"=" * 15 + b"%019d" % random.randrange(sys.maxsize) + b"=="  # noqa: S311
        if not any(boundary in body for body in bodies):
            return boundary


def render(row, *, mail_from: str, date: str) -> bytes | None:
    """The message's bytes, or None when only the email package may write them. Raises
    ValueError for a header with CR or LF in it."""
    if not (row.recipient.isascii() and _ADDRESS.fullmatch(row.recipient)):
        return None
    text_cte, text = _encoded(row.body_text)
    headers = [
        _header("From", mail_from),
        _header("To", row.recipient),
        _header("Subject", row.subject),
        _header("Message-ID", row.message_id),
        _header("Date", date),
        _header("Auto-Submitted", "auto-generated"),
    ]
    if getattr(row, "reply_to", ""):
        headers.append(_header("Reply-To", row.reply_to))
    if not row.body_html:
        return b"".join([*headers, _part_headers(b"plain", text_cte), _VERSION, b"\r\n", text])
    html_cte, html = _encoded(row.body_html)
    boundary = _boundary(text, html)
    return b"".join(
        [
            *headers,
            _VERSION,
            b'Content-Type: multipart/alternative;\r\n boundary="' + boundary + b'"\r\n\r\n',
            b"--" + boundary + b"\r\n",
            _part_headers(b"plain", text_cte),
            b"\r\n",
            text,
            b"\r\n--" + boundary + b"\r\n",
            _part_headers(b"html", html_cte),
            _VERSION,
            b"\r\n",
            html,
            b"\r\n--" + boundary + b"--\r\n",
        ]
    )
