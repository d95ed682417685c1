"""Outbound-URL guard: flowsync calls only public http(s) upstreams unless told otherwise.

Staff type upstream base URLs, and flowsync sends stored API keys there, so a base URL
pointing at 127.0.0.1, a cloud metadata address or the office network would turn flowsync into
a proxy into places its users cannot reach (SSRF). Two checks use this module:

- ``validate_upstream_url``, the validator of ``Connection.base_url``: any form (admin or
  other) refuses a URL that is not http(s) or whose host is, or resolves to, a refused address;
- ``checked_address``, which the HTTP layer calls when it opens a socket: it resolves the host,
  refuses it if any address is refused, and returns the address to connect to, so DNS that
  changes between the check and the connection (rebinding) cannot reach another address.

``SYNC_UPSTREAM_ALLOWED_NETWORKS`` (CIDRs) lets on-premise upstreams and the test fakes in.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

from syncing import conf

ALLOWED_SCHEMES = frozenset({"http", "https"})
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# NAT64 (RFC 6052) carries an IPv4 address in its last 32 bits; a gateway would connect there.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class UnsafeUrlError(ValueError):
    """The URL or the address its host resolves to may not be called."""


def address_is_refused(address: IPAddress) -> bool:
    """Loopback, private, link-local, multicast, reserved, unspecified or shared addresses,
    including IPv4 ones written as IPv6 (mapped, 6to4, Teredo, NAT64), unless allowed."""
    if any(address in network for network in conf.upstream_allowed_networks()):
        return False
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return address_is_refused(embedded)
    return address.is_multicast or not address.is_global


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (a literal address resolves to itself)."""
    infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    # Drop an IPv6 zone ("fe80::1%eth0"); the address itself is what is judged.
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def checked_address(host: str, port: int) -> str:
    """The address to connect to for ``host``: refused (UnsafeUrlError) when any of its
    addresses is refused, so a name that also points inside cannot be used at all."""
    addresses = resolve(host, port)
    if not addresses or any(address_is_refused(address) for address in addresses):
        raise UnsafeUrlError(f"{host} is a loopback, private or reserved address")
    return str(addresses[0])


def validate_upstream_url(url: str) -> None:
    """Model-field validator for upstream base URLs. A host that does not resolve now is
    accepted (DNS may be down, or the name not yet published); every connection checks
    again before it connects."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise ValidationError("Only http:// and https:// upstream URLs are allowed.")
    if not parts.hostname:
        raise ValidationError("The URL has no host.")
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        addresses = resolve(parts.hostname, port)
    except ValueError:
        raise ValidationError("The URL's port is not valid.") from None
    except (OSError, UnicodeError):
        return
    if any(address_is_refused(address) for address in addresses):
        raise ValidationError(
            "This host is, or resolves to, a loopback, private, link-local or reserved "
            "address. On-premise upstreams need SYNC_UPSTREAM_ALLOWED_NETWORKS."
        )
