"""What every part of the running portal shares: settings, database, clock, renderers, links."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import hashlib
import hmac

from starlette.routing import BaseRoute, NoMatchFound, Router

from portal import links
from portal.clock import SystemClock, to_db
from portal.db import Database
from portal.db import organization as org_rows
from portal.settings import Settings


class Foreground:
    """The requests this process is answering now. Background work in the same process (the
    outbox dispatcher under `portal serve`) lets them go first, for a bounded time: a burst
    of webhooks must each be answered within Twilio's 15 s, while what they queued may go
    out a moment later."""

    def __init__(self) -> None:
        self.in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def started(self) -> None:
        self.in_flight += 1
        self._idle.clear()

    def finished(self) -> None:
        self.in_flight -= 1
        if not self.in_flight:
            self._idle.set()

    async def quiet(self, at_most: float) -> None:
        """Return once no request is being answered, or after `at_most` seconds anyway."""
        if self.in_flight:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), at_most)


@dataclasses.dataclass
class PortalContext:
    settings: Settings
    db: Database
    clock: object
    consent_links: links.LinkService
    reset_links: links.LinkService
    invitation_links: links.LinkService
    # Set after a change queues mail or texts, so the in-process dispatcher wakes at once.
    outbox_wakeup: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    # Counted by portal/web/foreground.py; the in-process dispatcher waits on it.
    foreground: Foreground = dataclasses.field(default_factory=Foreground)
    # The staff dashboard's last counts (portal/web/staff/dashboard.py), reused until stale.
    dashboard_figures: object | None = None
    # (last opt-out event id counted, how many): the staff Alerts count goes on from there.
    opt_out_tally: tuple[int, int] = (0, 0)
    # The route table, set by whoever builds the app (or the CLI): emailed links are built
    # from route names, never written out by hand.
    router: Router | None = None
    _route_for_name: dict[str, BaseRoute] = dataclasses.field(default_factory=dict, repr=False)
    # The organization's name for page headers, read at start and kept fresh by logged-in
    # requests (see portal/web/pages.py); the settings' first default until then.
    organization_name: str = ""

    @classmethod
    def build(cls, settings: Settings, clock=None, db: Database | None = None) -> PortalContext:
        clock = clock or SystemClock()
        keys = settings.signing_keys

        def service(purpose: str, lifetime: dt.timedelta) -> links.LinkService:
            return links.LinkService(purpose=purpose, keys=keys, lifetime=lifetime, clock=clock)

        return cls(
            settings=settings,
            db=db or Database(settings.database_url),
            clock=clock,
            consent_links=links.LinkService(
                purpose=links.CONSENT,
                keys=keys,
                lifetime=dt.timedelta(days=settings.consent_link_days),
                longest=dt.timedelta(days=links.LONGEST_CONSENT_LINK_DAYS),
                clock=clock,
            ),
            reset_links=service(
                links.PASSWORD_RESET, dt.timedelta(minutes=settings.password_reset_minutes)
            ),
            invitation_links=service(links.INVITATION, dt.timedelta(days=14)),
            organization_name=settings.organization_name,
        )

    async def ensure_organization(self) -> None:
        """The organization row starts from the settings' first defaults; staff edit it later."""
        async with self.db.write() as conn:
            await org_rows.ensure(
                conn,
                name=self.settings.organization_name,
                email=self.settings.organization_email,
                phone=self.settings.organization_phone,
                now=to_db(self.now()),
            )
            self.organization_name = (await org_rows.get(conn)).name

    @property
    def twilio_auth_token(self) -> str:
        """Checks webhook signatures. In development without Twilio, the fake phone signs
        with a token derived from SECRET_KEY, so it exercises the real check."""
        token = str(self.settings.twilio_auth_token)
        if token or not self.settings.is_development:
            return token
        key = str(self.settings.secret_key).encode()
        return hmac.new(key, b"dev-fake-phone", hashlib.sha256).hexdigest()[:32]

    def now(self) -> dt.datetime:
        return self.clock.now()

    def url_for(self, name: str, **params: object) -> str:
        """Absolute link to a named route, for emails and webhooks, from PUBLIC_URL."""
        if self.router is None:
            raise RuntimeError("no route table: build the app, or set ctx.router, first")
        # Starlette tries every route in turn; a bulk request builds 20,000 links. The route
        # that answered a name before is asked first (any other is still found the long way).
        route = self._route_for_name.get(name)
        if route is not None:
            try:
                return self.settings.public_url + str(route.url_path_for(name, **params))
            except NoMatchFound:
                pass
        for route in self.router.routes:
            try:
                path = route.url_path_for(name, **params)
            except NoMatchFound:
                continue
            self._route_for_name[name] = route
            return self.settings.public_url + str(path)
        raise NoMatchFound(name, params)
