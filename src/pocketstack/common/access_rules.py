"""Access rules as each service applies them (keystonemiddleware's part).

An application credential created with ``access_rules`` authenticates only requests
that match one of them: the service's type, the HTTP method and the path below the
service's endpoint root (``/v2.1/servers/{server_id}``, where ``{name}`` and ``*`` stand
for one path segment and ``**`` for any number).  Keystone keeps the rules and puts them
in the token (:mod:`pocketstack.identity.access_rules`); keystonemiddleware in each
service checks the request against them.  Here every service validates tokens
in-process, so :func:`permits` is what each API applies (common/api/app.py), with the
rules carried by the request context.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import NamedTuple

# A header a service sends when it validates a token for someone else (keystonemiddleware
# 7.0+): the version of access rules it enforces.  Keystone refuses to validate a token
# that carries access rules for a service that does not say it enforces them.
SUPPORT_HEADER = "openstack-identity-access-rules"
MIN_SUPPORT = 1.0
# Other names of a service type that clients still use in rules (service-types-authority).
ALIASES = {"block-storage": {"volume", "volumev2", "volumev3"}}


class Rule(NamedTuple):
    """One access rule as a token carries it."""

    id: str
    service: str
    path: str
    method: str

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "service": self.service, "path": self.path, "method": self.method}


@functools.lru_cache(maxsize=1024)
def _pattern(path: str) -> re.Pattern[str]:
    """keystonemiddleware's reading of a rule's path: ``{tag}`` and ``*`` one segment,
    ``**`` anything, the rest literally."""
    parts = re.findall(r"\{[^}]*\}|\*\*|\*|[^{}*]+|[{}]", path)
    regex = "".join("[^/]+" if p == "*" or (p.startswith("{") and p.endswith("}") and len(p) > 1)
                    else ".*" if p == "**" else re.escape(p) for p in parts)
    return re.compile(f"^{regex}$")


def enforces_access_rules(headers: Mapping[str, str]) -> bool:
    """Whether a service validating a token says it enforces access rules."""
    try:
        return float(headers.get(SUPPORT_HEADER) or 0) >= MIN_SUPPORT
    except ValueError:
        return False


def permits(rules: Sequence[Rule], service_type: str, method: str, path: str) -> bool:
    """Whether a request of ``method`` to ``path`` (below the service's endpoint root)
    of the service of type ``service_type`` matches one of ``rules``.  Validating a token
    (``GET /v3/auth/tokens``) is always allowed, as keystonemiddleware allows it."""
    if service_type == "identity" and method == "GET" and path.endswith("/v3/auth/tokens"):
        return True
    names = {service_type, *ALIASES.get(service_type, ())}
    return any(rule.method == method and rule.service in names and _pattern(rule.path).match(path)
               for rule in rules)
