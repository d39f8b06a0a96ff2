"""Who the client is behind proxies: only the hops that trusted proxies added are believed.

X-Forwarded-For is a list that every proxy appends to, so anything left of the last trusted
proxy's entry may have been written by the client itself. We walk it from the right, skip the
hops that are our own proxies, and take the first one that is not: the address our outermost
proxy saw. The address is evidence (the ledger's IP, the session's IP) and a throttling key, so
a value that is not an IP address is never taken.
"""

from __future__ import annotations

import ipaddress

from starlette.types import ASGIApp, Receive, Scope, Send

_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _address(hop: str) -> _Address | None:
    """The IP address of one X-Forwarded-For entry (`1.2.3.4`, `1.2.3.4:80`, `[::1]:80`)."""
    hop = hop.strip()
    if hop.startswith("["):
        hop = hop[1 : hop.find("]")] if "]" in hop else hop
    elif hop.count(":") == 1:
        hop = hop.split(":", 1)[0]
    try:
        return ipaddress.ip_address(hop)
    except ValueError:
        return None


class TrustedProxies:
    """FORWARDED_ALLOW_IPS: addresses and networks of our proxies, or `*` for "whoever
    connects is our load balancer" (only right where nothing else can reach the app)."""

    def __init__(self, spec: str) -> None:
        entries = [e.strip() for e in spec.split(",") if e.strip()]
        self.trust_all = "*" in entries
        self.networks = []
        self.literals = set()  # e.g. a unix socket's name, which is no IP address
        for entry in entries:
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.literals.add(entry)

    def __contains__(self, host: str | None) -> bool:
        if not host:
            return False
        if self.trust_all or host in self.literals:
            return True
        address = _address(host)
        return address is not None and any(address in net for net in self.networks)

    def client_host(self, peer: str, forwarded_for: str | None) -> str:
        """The client's address, given who connected to us and the X-Forwarded-For header."""
        if forwarded_for is None or peer not in self:
            return peer  # anyone else could claim any address
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        if self.trust_all:
            # Every connection is from our load balancer, and it appends the address it saw:
            # the right-most entry. Entries left of it are whatever the client sent.
            hops = hops[-1:]
        for hop in reversed(hops):
            address = _address(hop)
            if address is None:
                return peer  # a hop we cannot read: believe nothing to its left either
            if str(address) not in self:
                return str(address)
        # Every hop is one of our proxies: the left-most is the first of them.
        address = _address(hops[0]) if hops else None
        return str(address) if address is not None else peer


class ProxyHeadersMiddleware:
    """Rewrites the ASGI client (and scheme) from proxy headers that trusted proxies set.

    Replaces uvicorn's `proxy_headers`, which with `*` takes the left-most X-Forwarded-For
    entry: the one the client wrote. Rewriting the scope in place also fixes the access log.
    """

    def __init__(self, app: ASGIApp, trusted: str) -> None:
        self.app = app
        self.trusted = TrustedProxies(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("client"):
            peer = scope["client"][0]
            headers = [(n, v) for n, v in scope.get("headers", []) if n.startswith(b"x-forwarded")]
            forwarded_for = [v.decode("latin-1") for n, v in headers if n == b"x-forwarded-for"]
            host = self.trusted.client_host(peer, ", ".join(forwarded_for) or None)
            if host != peer:
                scope["client"] = (host, 0)
            if peer in self.trusted:
                proto = [
                    v.decode("latin-1").strip() for n, v in headers if n == b"x-forwarded-proto"
                ]
                if proto and proto[-1] in {"http", "https"}:
                    scope["scheme"] = proto[-1]
        await self.app(scope, receive, send)
