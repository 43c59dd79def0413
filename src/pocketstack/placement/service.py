"""The Placement service as the cloud runs it: the API under ``/placement`` and the
:class:`~pocketstack.placement.manager.PlacementManager` other services call in process."""

from __future__ import annotations

from pocketstack.common.service import Service
from pocketstack.placement.manager import PlacementManager
from pocketstack.placement.policies import RULES


class PlacementService(Service):
    name = "placement"
    catalog_name = "placement"
    rules = RULES

    def __init__(self, cloud):
        super().__init__(cloud)
        self.manager = PlacementManager(cloud.db)

    def app(self):
        from pocketstack.placement.api import build_router
        from pocketstack.placement.api.common import VERSIONS, finish, placement_format
        return self.api(build_router(self.manager), placement_format, versions=VERSIONS, finish=finish)

