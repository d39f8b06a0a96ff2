"""An email's bytes written directly are those the email package writes, or are left to it."""

from __future__ import annotations

import contextlib
import re
import types

import pytest
from aiosmtplib.email import flatten_message
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.messaging import mime
from portal.messaging.smtp import build_message

DATE = "Wed, 25 Nov 2026 13:14:08 GMT"
BOUNDARY = re.compile(rb"={15}\d{19}==")

plain_words = st.text("abcXYZ019.,!'&/+_:;#%*-", min_size=1, max_size=12)
plain_text = st.lists(plain_words, min_size=1, max_size=8).map(" ".join)
address = st.from_regex(
    r"[a-z0-9]{1,10}(\.[a-z0-9_+-]{1,5})?@[a-z0-9-]{1,10}\.example", fullmatch=True
)
# Lines short and long (quoted-printable or base64 then), ASCII or not, ended as they may be.
body = st.lists(
    st.one_of(st.text("ab <>/=.-\t", max_size=200), st.text(max_size=90), st.just("é" * 80)),
    max_size=14,
).map(lambda lines: "\n".join(lines)) | st.text(max_size=120)
anything = st.text(max_size=30).filter(lambda s: "\r" not in s and "\n" not in s)


def email_package_bytes(row, mail_from: str) -> bytes:
    """What was sent before: the message built with the email package, flattened by aiosmtplib
    as send_message does over a server that takes 8BITMIME."""
    return flatten_message(build_message(row, mail_from=mail_from, date=DATE), cte_type="8bit")


def same_but_the_boundary(ours: bytes, theirs: bytes) -> bool:
    return BOUNDARY.sub(b"B", ours) == BOUNDARY.sub(b"B", theirs)


@settings(max_examples=300, deadline=None)
@given(
    recipient=address,
    subject=st.one_of(plain_text, anything),
    reply_to=st.one_of(st.just(""), address, anything),
    text=body,
    html=st.one_of(st.just(""), body),
    mail_from=st.sampled_from(["no-reply@portal.example", "Riverside Dance <no-reply@r.example>"]),
)
def test_a_message_written_directly_is_byte_for_byte_what_the_email_package_writes(
    recipient, subject, reply_to, text, html, mail_from
):
    row = types.SimpleNamespace(
        recipient=recipient,
        subject=subject,
        message_id="<0123abcd@portal.example>",
        reply_to=reply_to,
        body_text=text,
        body_html=html,
    )
    try:
        theirs = email_package_bytes(row, mail_from)
    except Exception as refusal:  # noqa: BLE001 (its parser raises more than ValueError)
        # The email package refuses it: so must we, as it does, or leave it to it.
        with contextlib.suppress(type(refusal)):
            assert mime.render(row, mail_from=mail_from, date=DATE) is None
        return
    ours = mime.render(row, mail_from=mail_from, date=DATE)
    assert ours is None or same_but_the_boundary(ours, theirs)


def test_the_usual_email_is_written_directly_with_its_reply_to_and_message_id():
    row = types.SimpleNamespace(
        recipient="avery.parent@demo.example",
        subject="Please confirm texting for Avery",
        message_id="<0123abcd@portal.example>",
        reply_to="office@riverside.example",
        body_text="Hello,\n\nPlease confirm: https://portal.example/c/abc\n",
        body_html='<p>Hello,</p>\n<p><a href="https://portal.example/c/abc">Confirm</a></p>\n',
    )
    ours = mime.render(row, mail_from="no-reply@portal.example", date=DATE)
    assert ours is not None
    assert b"\r\nReply-To: office@riverside.example\r\n" in ours
    assert b"\r\nMessage-ID: <0123abcd@portal.example>\r\n" in ours
    assert same_but_the_boundary(ours, email_package_bytes(row, "no-reply@portal.example"))


@pytest.mark.parametrize("field", ["subject", "reply_to", "message_id"])
def test_a_header_with_a_line_break_is_refused_as_the_email_package_refuses_it(field):
    row = types.SimpleNamespace(
        recipient="avery.parent@demo.example",
        subject="Hello",
        message_id="<1@portal.example>",
        reply_to="",
        body_text="Hi\n",
        body_html="",
    )
    setattr(row, field, "x@y.example\r\nBcc: everyone@example.org")
    with pytest.raises(ValueError):
        mime.render(row, mail_from="no-reply@portal.example", date=DATE)
