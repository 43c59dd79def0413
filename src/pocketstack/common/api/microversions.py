"""API microversions (``OpenStack-API-Version: <service> X.Y``).

A service declares its minimum and maximum; each request negotiates one version, which
handlers compare against with ``req.version >= (2, 47)``-style checks.  Behaviour changes
by version are documented next to the check that implements them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from pocketstack.common.errors import NotAcceptable

_VERSION = re.compile(r"^([1-9]\d*)\.(0|[1-9]\d*)$")


class Version(NamedTuple):
    """A microversion; compares with other versions and plain ``(major, minor)`` tuples."""

    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> "Version":
        match = _VERSION.match(text.strip())
        if not match:
            raise ValueError(text)
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


@dataclass(frozen=True)
class VersionRange:
    service_type: str  # as it appears in the header, e.g. "compute", "volume"
    minimum: Version
    maximum: Version
    legacy_header: str | None = None  # e.g. "X-OpenStack-Nova-API-Version"

    def negotiate(self, headers: Mapping[str, str]) -> Version:
        """The version the request asks for (default: the minimum); 406 when out of range."""
        requested = None
        header = headers.get("openstack-api-version")
        if header:
            for part in header.split(","):
                words = part.strip().split()
                if len(words) == 2 and words[0].lower() == self.service_type:
                    requested = words[1]
        if requested is None and self.legacy_header:
            requested = headers.get(self.legacy_header)
        if requested is None:
            return self.minimum
        if requested.strip().lower() == "latest":
            return self.maximum
        try:
            version = Version.parse(requested)
        except ValueError:
            raise NotAcceptable(f"Invalid microversion {requested!r}; use the form X.Y.") from None
        if version < self.minimum or version > self.maximum:
            raise NotAcceptable(f"Version {version} is not supported by the API. Minimum is {self.minimum} "
                                f"and maximum is {self.maximum}.")
        return version

    def response_headers(self, version: Version) -> dict[str, str]:
        headers = {"OpenStack-API-Version": f"{self.service_type} {version}",
                   "Vary": "OpenStack-API-Version"}
        if self.legacy_header:
            headers[self.legacy_header] = str(version)
            headers["Vary"] += ", " + self.legacy_header
        return headers
