"""What every instance-HA handler shares: Masakari's microversions (1.0-1.3: 1.1 shows a
notification's recovery workflow, 1.3 its vmoves) and rendering of times."""

from __future__ import annotations

import datetime as dt

from starlette.responses import Response

from pocketstack.common.api.microversions import Version, VersionRange
from pocketstack.common.api.request import ApiRequest

VERSIONS = VersionRange("instance-ha", Version(1, 0), Version(1, 3))


def finish(req: ApiRequest, response: Response) -> None:
    version = req.attributes.get("version")
    if version is not None:
        response.headers.update(VERSIONS.response_headers(version))


def timestamp(value: dt.datetime | None) -> str | None:
    """Masakari's times: ``2017-04-21T12:09:44.000000``."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f") if value is not None else None
