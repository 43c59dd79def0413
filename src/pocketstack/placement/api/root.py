"""Version discovery at ``/placement/`` (public, like Placement's root)."""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.placement.api.common import VERSIONS


class RootApi:
    @route.get("/", public=True)
    def versions(self, req: ApiRequest) -> dict:
        """The one API version and its microversion range."""
        return {"versions": [{"id": "v1.0", "max_version": str(VERSIONS.maximum),
                              "min_version": str(VERSIONS.minimum), "status": "CURRENT",
                              "links": [{"rel": "self", "href": ""}]}]}
