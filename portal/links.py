"""Signed, single-use, expiring links: one salt per purpose, state kept on the server.

The token is only an itsdangerous-signed opaque id. Whom it is for, the consent version it was
issued at, when it expires and when it was used live in the `links` table, so a link can be
made stale by a later change and can be used once (Django's token idea: bind the token to the
state it changes).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from collections.abc import Sequence

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from portal.clock import from_db, to_db
from portal.db import Conn, Row
from portal.db import links as link_rows

CONSENT = "text-consent"
PASSWORD_RESET = "password-reset"
INVITATION = "portal-invitation"
PURPOSES = (CONSENT, PASSWORD_RESET, INVITATION)
# Staff may set how long consent links last, up to this.
LONGEST_CONSENT_LINK_DAYS = 90


class LinkError(Exception):
    """Base of every reason a link cannot be acted on."""


class LinkInvalid(LinkError):
    """Tampered, truncated, signed for another purpose, or unknown."""


class LinkExpired(LinkError):
    def __init__(self, link: Row | None = None) -> None:
        super().__init__("link expired")
        self.link = link


class LinkUsed(LinkError):
    def __init__(self, link: Row) -> None:
        super().__init__("link already used")
        self.link = link


@dataclasses.dataclass(frozen=True)
class LinkFor:
    """Whom a link is for and what it binds: what `LinkService.issue_many` issues from."""

    person_id: int | None = None
    account_id: int | None = None
    phone: str | None = None
    consent_version: int | None = None
    sent_to: str | None = None


@dataclasses.dataclass(frozen=True)
class IssuedLink:
    link_id: str
    token: str


class LinkService:
    """Issue and check links for one purpose. A link lives `lifetime` unless issued with
    another (staff may set the consent links' lifetime, up to `longest`); `longest` bounds the
    signature's max_age, and the link's own row holds its exact expiry."""

    def __init__(
        self,
        *,
        purpose: str,
        keys: list[str],
        lifetime: dt.timedelta,
        clock,
        longest: dt.timedelta | None = None,
    ) -> None:
        if purpose not in PURPOSES:
            raise ValueError(f"unknown link purpose {purpose}")
        self.purpose = purpose
        self.lifetime = lifetime
        self.longest = max(longest or lifetime, lifetime)
        self.clock = clock

        class ClockedSigner(TimestampSigner):
            # itsdangerous reads time.time(); ours reads the injected clock so tests can stand
            # at the exact expiry instant.
            def get_timestamp(self) -> int:
                return int(clock.now().timestamp())

        # One salt per purpose: a password-reset token never verifies as a consent token.
        self._serializer = URLSafeTimedSerializer(
            keys, salt=f"portal.links.{purpose}", signer=ClockedSigner
        )

    async def issue(
        self,
        conn: Conn,
        *,
        person_id: int | None = None,
        account_id: int | None = None,
        phone: str | None = None,
        consent_version: int | None = None,
        lifetime: dt.timedelta | None = None,
        sent_to: str | None = None,
    ) -> IssuedLink:
        wanted = LinkFor(person_id, account_id, phone, consent_version, sent_to)
        [issued] = await self.issue_many(conn, [wanted], lifetime=lifetime)
        return issued

    async def issue_many(
        self, conn: Conn, wanted: Sequence[LinkFor], *, lifetime: dt.timedelta | None = None
    ) -> list[IssuedLink]:
        """One link for each of `wanted`, in the same order, stored in one statement (a bulk
        request's batch costs one round trip for its links, not one per person)."""
        now = self.clock.now()
        created_at = to_db(now)
        expires_at = to_db(now + min(lifetime or self.lifetime, self.longest))
        link_ids = [secrets.token_urlsafe(18) for _ in wanted]
        await link_rows.create_many(
            conn,
            [
                {
                    "id": link_id,
                    "purpose": self.purpose,
                    "person_id": link.person_id,
                    "account_id": link.account_id,
                    "phone": link.phone,
                    "consent_version": link.consent_version,
                    "created_at": created_at,
                    "expires_at": expires_at,
                    "sent_to": link.sent_to,
                }
                for link_id, link in zip(link_ids, wanted, strict=True)
            ],
        )
        return [IssuedLink(link_id=i, token=self._serializer.dumps(i)) for i in link_ids]

    def link_id_of(self, token: str) -> str:
        """The id inside a token, or LinkInvalid / LinkExpired. Touches no database."""
        try:
            link_id = self._serializer.loads(token, max_age=int(self.longest.total_seconds()) + 1)
        except SignatureExpired as exc:
            raise LinkExpired() from exc
        except (BadSignature, UnicodeDecodeError, ValueError) as exc:
            raise LinkInvalid() from exc
        if not isinstance(link_id, str):
            raise LinkInvalid()
        return link_id

    def link_id_of_any_age(self, token: str) -> str:
        """The id of a genuine token even if its signature is too old: only for offering a
        fresh link to the address already on file, never for acting on the old one."""
        try:
            link_id = self._serializer.loads(token)
        except (BadSignature, UnicodeDecodeError, ValueError) as exc:
            raise LinkInvalid() from exc
        if not isinstance(link_id, str):
            raise LinkInvalid()
        return link_id

    def check_row(self, link: Row | None, *, allow_used: bool = False) -> Row:
        """The rules on a link row already read (the consent page reads it joined)."""
        if link is None or link.purpose != self.purpose:
            raise LinkInvalid()
        # Good through the last instant of its lifetime, like itsdangerous' max_age: expired
        # only once that instant has passed.
        if self.clock.now() > from_db(link.expires_at):
            raise LinkExpired(link)
        if link.used_at is not None and not allow_used:
            raise LinkUsed(link)
        return link

    async def check(self, conn: Conn, token: str, *, allow_used: bool = False) -> Row:
        """The link's server-side record, if the token is genuine, current and unused."""
        return self.check_row(
            await link_rows.get(conn, self.link_id_of(token)), allow_used=allow_used
        )

    async def use(self, conn: Conn, link_id: str, *, answer: str) -> None:
        """Mark used, once. A request racing another loses here, inside its transaction."""
        if not await link_rows.mark_used(conn, link_id, answer=answer, now=to_db(self.clock.now())):
            raise LinkUsed(await link_rows.get(conn, link_id))
