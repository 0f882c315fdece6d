"""Which addresses the fetcher may connect to (the SSRF guard).

Checks happen on IP literals before any connection and on every address a name resolves
to, so the connection goes only to an address that passed the check.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

from pipeline.config import Network

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NON_PUBLIC_V4 = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",  # CGNAT
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, cloud metadata
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",
        "255.255.255.255/32",
    )
)
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


class BlockedAddress(Exception):
    """The target address is not allowed; raised before any connection is made."""


def parse_ip_literal(host: str) -> IPAddress | None:
    """An IP address written in any form a resolver would accept (decimal, octal, hex)."""
    # A trailing dot ("127.0.0.1.") is the same address to a resolver.
    host = host.strip("[]").rstrip(".")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefxABCDEFX." for c in host) and host[0].isdigit():
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if any(ip in net for net in _NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour:
        return ip.sixtofour
    return None


def is_public(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_v4(ip)
        if embedded is not None:
            return is_public(embedded) and not any(ip in net for net in _NAT64)
        return not (
            ip.is_loopback
            or ip.is_private
            or ip.is_link_local
            or ip.is_multicast
            or ip.is_unspecified
            or ip.is_reserved
            or ip.is_site_local
        )
    return not any(ip in net for net in _NON_PUBLIC_V4)


@dataclass(frozen=True, slots=True)
class NetworkPolicy:
    """allow: extra networks permitted besides public ones. only: if set, nothing else."""

    allow: tuple[Network, ...] = ()
    only: tuple[Network, ...] = ()

    def _in(self, ip: IPAddress, nets: tuple[Network, ...]) -> bool:
        return any(ip.version == net.version and ip in net for net in nets)

    def check_address(self, ip: IPAddress) -> None:
        if self.only:
            if not self._in(ip, self.only):
                raise BlockedAddress(f"{ip} is outside the only-networks list")
            return
        if not is_public(ip) and not self._in(ip, self.allow):
            raise BlockedAddress(f"{ip} is not a public address")

    def check_host(self, host: str) -> IPAddress | None:
        """Check a URL host before resolution; returns its address if it is a literal."""
        ip = parse_ip_literal(host)
        if ip is not None:
            self.check_address(ip)
            return ip
        if self.only and host.lower().rstrip(".") != "localhost":
            # Exclusive mode: names are never even looked up, except localhost.
            raise BlockedAddress(f"{host} is not inside the only-networks list")
        return None
