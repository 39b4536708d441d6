"""The address of the client a request comes from, seen through the reverse proxies we
trust (`TRUSTED_PROXIES`, from `HONGYAN_TRUSTED_PROXIES`).

Behind nginx or a TLS gateway, `REMOTE_ADDR` is the proxy's address, shared by every
client. Each proxy appends the address it saw connect to `X-Forwarded-For`, so reading
that header from the right, past our own proxies, gives the client. Everything to the
left of that point was written by the client and may be forged, so it is never read."""

from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from django.conf import settings

Network = IPv4Network | IPv6Network


def parse_address(text: str) -> IPv4Address | IPv6Address | None:
    """An IP address, or None for anything else (a port, a name, garbage)."""
    try:
        address = ip_address(text.strip())
    except ValueError:
        return None
    # a dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d
    if isinstance(address, IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def is_trusted(address: IPv4Address | IPv6Address, trusted: Sequence[Network]) -> bool:
    return any(address in network for network in trusted)


def client_address(remote_addr: str, forwarded_for: str, trusted: Sequence[Network]) -> str:
    """The client's address: `remote_addr` itself unless it is a trusted proxy, else the
    rightmost address of `forwarded_for` that is not a trusted proxy."""
    nearest = parse_address(remote_addr or "")
    if nearest is None or not forwarded_for or not is_trusted(nearest, trusted):
        return remote_addr
    for entry in reversed(forwarded_for.split(",")):
        address = parse_address(entry)
        if address is None:
            # our proxies write only addresses: an entry that is not one means the
            # header is not what we think it is, and nothing left of it can be believed
            break
        nearest = address
        if not is_trusted(address, trusted):
            return str(address)
    # every hop we could read was one of ours: the furthest one we can vouch for
    return str(nearest)


def request_client_address(request) -> str:
    return client_address(
        request.META.get("REMOTE_ADDR", ""),
        request.META.get("HTTP_X_FORWARDED_FOR", ""),
        settings.TRUSTED_PROXIES,
    )
