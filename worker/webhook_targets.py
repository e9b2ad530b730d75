"""Where webhook receivers may be: not inside the service's own network unless allowed.

A webhook URL is typed by an administrator, but it makes the workers send requests from
inside the network: to 127.0.0.1 (the service's own ports), 169.254.169.254 (a cloud's
metadata and its credentials) or the private ranges of the office network. Every address a
receiver's name resolves to must be a global one, unless the operator lists networks that
receivers may be in (`SOHOA_WEBHOOK_ALLOWED_NETWORKS`, e.g. an internal integration
server). Checked when a subscription is saved and again before each delivery, since a name
may resolve elsewhere later.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def allowed_networks(setting: str) -> list[IPNetwork]:
    """The networks of a comma-separated setting; a bad entry raises ValueError."""
    return [ipaddress.ip_network(part.strip(), strict=False)
            for part in setting.split(",") if part.strip()]  # fmt: skip


def addresses(url: str) -> list[IPAddress]:
    """Every address the URL's host stands for; [] when the name does not resolve."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        return []
    found = []
    for info in infos:
        text = info[4][0]
        assert isinstance(text, str)  # a name resolves to AF_INET(6) addresses: text
        found.append(ipaddress.ip_address(text.split("%", 1)[0]))
    return found


def refusal(url: str, allowed: list[IPNetwork]) -> str | None:
    """Why a receiver at `url` may not be called, or None when it may."""
    for address in addresses(url):
        mapped = getattr(address, "ipv4_mapped", None)
        real = mapped or address
        if real.is_global or any(real in network for network in allowed):
            continue
        return (
            f"{real} is not a public address (loopback, private, link-local or reserved); "
            "list its network in SOHOA_WEBHOOK_ALLOWED_NETWORKS to allow it"
        )
    return None
