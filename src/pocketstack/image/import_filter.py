"""Which URLs a ``web-download`` import may fetch: Glance's ``[import_filtering_opts]``.

Allowed and disallowed lists of schemes, hosts and ports; when both lists of a kind are
set only the allowed one counts.  A port is checked only when the URL names one (so the
default allowed ports 80 and 443 still let ``http://host/x`` through).  Hosts are
compared in a normal form: an IP address as :mod:`ipaddress` writes it, a name only if
it resolves — numeric spellings an IP parser rejects (``2130706433``, ``127.1``,
``0x7f000001``) are refused, so they cannot smuggle a disallowed address past the list.
The fetch re-checks every redirect target.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from pocketstack.common.config import Settings


def _names(text: str) -> frozenset[str]:
    return frozenset(part.strip() for part in text.split(",") if part.strip())


def _ports(text: str) -> frozenset[int]:
    return frozenset(int(port) for port in _names(text))


def normal_host(host: str | None) -> str | None:
    """``host`` as the lists are compared with, or None when it is no usable host."""
    if not host:
        return None
    for kind in (ipaddress.IPv4Address, ipaddress.IPv6Address):
        try:
            return str(kind(host))
        except ValueError:
            pass
    if all(c.isdigit() or c == "." for c in host):
        return None
    try:  # the trailing dot forces a DNS lookup instead of numeric parsing
        socket.getaddrinfo(host if host.endswith(".") else host + ".", 80)
    except (socket.gaierror, UnicodeError):
        return None
    return host


@dataclass(frozen=True)
class ImportFilter:
    allowed_schemes: frozenset[str] = frozenset({"http", "https"})
    disallowed_schemes: frozenset[str] = frozenset()
    allowed_hosts: frozenset[str] = frozenset()
    disallowed_hosts: frozenset[str] = frozenset()
    allowed_ports: frozenset[int] = frozenset({80, 443})
    disallowed_ports: frozenset[int] = frozenset()

    @classmethod
    def from_settings(cls, settings: Settings) -> ImportFilter:
        return cls(_names(settings.image_import_allowed_schemes), _names(settings.image_import_disallowed_schemes),
                   _names(settings.image_import_allowed_hosts), _names(settings.image_import_disallowed_hosts),
                   _ports(settings.image_import_allowed_ports), _ports(settings.image_import_disallowed_ports))

    @staticmethod
    def _passes(value, allowed: frozenset, disallowed: frozenset) -> bool:
        return value in allowed if allowed else value not in disallowed

    def allows(self, uri: object) -> bool:
        """Whether a web-download import may fetch ``uri`` (Glance's ``validate_import_uri``)."""
        if not isinstance(uri, str) or not uri:
            return False
        try:
            parts = urlsplit(uri)
            port = parts.port
        except ValueError:
            return False
        if not parts.scheme or not self._passes(parts.scheme, self.allowed_schemes, self.disallowed_schemes):
            return False
        host = normal_host(parts.hostname)
        if host is None or not self._passes(host, self.allowed_hosts, self.disallowed_hosts):
            return False
        return not port or self._passes(port, self.allowed_ports, self.disallowed_ports)


GLANCE_DEFAULTS = ImportFilter()
