"""One policy for every URL an organisation admin gives the server to call.

A provider's base URL and a plugin's document, server and token URLs are typed by an
organisation admin, but the server calls them from inside the network, with a key: left alone
it would reach loopback services (Redis, PostgreSQL), the cloud metadata endpoint, or anything
on the private network, and show what answered. So every address such a host resolves to must
be public, and the scheme https (a key or a person's data never crosses the network in
clear), checked when the URL is saved (a clear 400) and again on every request, after DNS
resolution (a name may later resolve elsewhere) and on every redirect hop: the transport
connects to the address it checked, with the name kept for the Host header and TLS. An
instance admin may allow named hosts (``TEAMSPRO_OUTBOUND_ALLOW``), e.g. an Ollama on the
private network, which may then be plain http. URLs from the instance's own settings (Graph,
OpenID, instance-wide providers) are trusted and do not go through here.

Why hand-written: the maintained SSRF guards for Python wrap ``requests`` or ``urllib3``;
none plugs into httpx's transport API, which the ``openai`` client uses.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator, Iterable
from typing import Any
from urllib.parse import urlsplit

import httpx2

from teamspro.core.errors import InvalidInput
from teamspro.core.tls import client_context

SCHEMES = {"http": 80, "https": 443}
DNS_TIMEOUT_SECONDS = 5.0
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(InvalidInput):
    code = "url_refused"


def _embedded(ip: Address) -> Address:
    """The IPv4 address an IPv6 one carries (mapped, NAT64, 6to4), which is what is reached."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return ip.ipv4_mapped
        if ip.sixtofour:
            return ip.sixtofour
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def is_public(ip: Address) -> bool:
    """Public unicast only: loopback, private, link-local (metadata), shared, reserved,
    multicast and unspecified addresses are all refused."""
    ip = _embedded(ip)
    return ip.is_global and not ip.is_multicast


class OutboundPolicy:
    def __init__(self, allow: Iterable[str] = ()) -> None:
        self.allow = frozenset(entry.strip().lower().rstrip(".") for entry in allow if entry)

    def allowed(self, host: str, port: int) -> bool:
        host = host.lower().rstrip(".")
        return host in self.allow or f"{host}:{port}" in self.allow

    @staticmethod
    def split(url: str) -> tuple[str, str, int]:
        """Scheme, host and port of a URL the policy accepts the shape of."""
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError as exc:
            raise Refused("This URL cannot be read.") from exc
        scheme = parts.scheme.lower()
        if scheme not in SCHEMES:
            raise Refused("Only http and https URLs may be called.")
        if not parts.hostname:
            raise Refused("This URL has no host.")
        return scheme, parts.hostname, port or SCHEMES[scheme]

    async def public_addresses(self, host: str, port: int) -> list[str]:
        """Every address ``host`` resolves to, all public, or ``Refused``.

        Numeric spellings (2130706433, 0177.0.0.1, 0x7f.1) go through the resolver like names,
        so they are judged by the address they mean. One private address refuses the host: a
        name that resolves to both could be made to connect to either.
        """
        loop = asyncio.get_running_loop()
        try:
            found = await asyncio.wait_for(
                loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), DNS_TIMEOUT_SECONDS
            )
        except (OSError, TimeoutError, UnicodeError) as exc:
            raise Refused("This URL's host cannot be resolved.") from exc
        addresses = list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in found))
        if not addresses or not all(is_public(ipaddress.ip_address(a)) for a in addresses):
            # The same words whatever the address: an admin learns nothing of the network.
            raise Refused(
                "This URL points to a local, private or link-local address; only public hosts "
                "may be called (an instance admin can allow a host with TEAMSPRO_OUTBOUND_ALLOW)."
            )
        return addresses

    async def judge(self, url: str) -> tuple[str, str, int, str | None]:
        """Scheme, host, port and the address to connect to (None: an allowed host, connect
        by name), or ``Refused``. The address is judged before the scheme, so a private
        address is refused as such whatever its scheme."""
        scheme, host, port = self.split(url)
        if self.allowed(host, port):
            return scheme, host, port, None
        address = (await self.public_addresses(host, port))[0]
        if scheme != "https":
            raise Refused(
                "Only https URLs may be called (an instance admin can allow a host with "
                "TEAMSPRO_OUTBOUND_ALLOW)."
            )
        return scheme, host, port, address

    async def check(self, url: str) -> None:
        """Refuse, with a reason, a URL the server must not call (when it is saved)."""
        await self.judge(url)


class TooLarge(httpx2.ReadError):
    """An answer past the size a caller accepts: reading stops there."""


class _Capped(httpx2.AsyncByteStream):
    def __init__(self, inner: httpx2.AsyncByteStream, limit: int, request: httpx2.Request) -> None:
        self._inner, self._limit, self._request = inner, limit, request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        seen = 0
        async for piece in self._inner:
            seen += len(piece)
            if seen > self._limit:
                raise TooLarge(
                    f"The answer is larger than {self._limit // 1024} KB.", request=self._request
                )
            yield piece

    async def aclose(self) -> None:
        await self._inner.aclose()


class GuardedTransport(httpx2.AsyncBaseTransport):
    """Checks every request (each redirect hop is one) and connects to the checked address;
    with ``max_response_bytes``, a body stops being read past that size (a server answering
    without end cannot fill the memory), and bodies come uncompressed, so the size counted is
    the size kept (a compressed answer could be a bomb)."""

    def __init__(
        self, policy: OutboundPolicy, max_response_bytes: int | None = None, **options: Any
    ) -> None:
        self._policy = policy
        self._limit = max_response_bytes
        self._inner = httpx2.AsyncHTTPTransport(**{"verify": client_context(), **options})

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        try:
            scheme, host, _, address = await self._policy.judge(str(request.url))
        except Refused as exc:
            # A connection error, as for a host that is down: callers show a generic message.
            raise httpx2.ConnectError(exc.message, request=request) from exc
        if self._limit is not None:
            request.headers["Accept-Encoding"] = "identity"
        sent = request
        if address is not None:
            # A copy goes to the checked address; the caller's request keeps its name, so a
            # relative redirect resolves against the name (and TLS checks the name again).
            extensions = dict(request.extensions)
            if scheme == "https":
                extensions["sni_hostname"] = host
            sent = httpx2.Request(
                request.method,
                request.url.copy_with(host=address),
                headers=request.headers,
                stream=request.stream,
                extensions=extensions,
            )
        response = await self._inner.handle_async_request(sent)
        if self._limit is not None:
            if response.headers.get("content-encoding", "identity").lower() != "identity":
                await response.aclose()
                raise httpx2.ReadError(
                    "The server compressed its answer though asked not to.", request=request
                )
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self._limit:
                await response.aclose()
                raise TooLarge(
                    f"The answer is larger than {self._limit // 1024} KB.", request=request
                )
            stream = response.stream
            assert isinstance(stream, httpx2.AsyncByteStream)
            response.stream = _Capped(stream, self._limit, request)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def guarded_client(
    policy: OutboundPolicy, *, max_response_bytes: int | None = None, **options: Any
) -> httpx2.AsyncClient:
    """An HTTP client for URLs an organisation admin chose."""
    limits = options.pop("limits", None)
    transport = GuardedTransport(
        policy, max_response_bytes, **({"limits": limits} if limits else {})
    )
    return httpx2.AsyncClient(transport=transport, **options)
