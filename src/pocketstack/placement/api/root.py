"""Version discovery at ``/placement/`` (public, like Placement's root)."""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import Router
from pocketstack.placement.api.common import VERSIONS
from pocketstack.placement.manager import PlacementManager


def register(router: Router, manager: PlacementManager) -> None:
    @router.get("/", public=True)
    def versions(req: ApiRequest):
        return {"versions": [{"id": "v1.0", "max_version": str(VERSIONS.maximum),
                              "min_version": str(VERSIONS.minimum), "status": "CURRENT",
                              "links": [{"rel": "self", "href": ""}]}]}
