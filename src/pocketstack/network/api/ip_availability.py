"""``/v2.0/network-ip-availabilities``: addresses used and available per network and
subnet (:mod:`pocketstack.network.ip_availability`).

Admin-only by Neutron's default policy, enforced as Neutron enforces it on reads: a
caller it refuses sees an empty list and a 404 for any network, never a 403 that would
confirm the network exists.
"""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.network import errors
from pocketstack.network.api import render
from pocketstack.network.manager import NetworkManager

RULE = "get_network_ip_availability"
PATH = "/v2.0/network-ip-availabilities"


class IpAvailabilityApi:
    def __init__(self, manager: NetworkManager):
        self.manager = manager

    @staticmethod
    def visible(req: ApiRequest) -> bool:
        return req.permits({"project_id": req.caller.project_id}, rule=RULE)

    @route.get(PATH, policy=RULE)
    def index(self, req: ApiRequest):
        if not self.visible(req):
            return {"network_ip_availabilities": []}
        filters = {key: req.query.getlist(key) for key in set(req.query.keys())}
        return {"network_ip_availabilities": [render.select_fields(req, item) for item in
                                              self.manager.ip_availabilities(req.caller, filters)]}

    @route.get(PATH + "/{network_id}", policy=RULE)
    def show(self, req: ApiRequest):
        network_id = req.path_params["network_id"]
        found = self.manager.ip_availabilities(req.caller, {"network_id": [network_id]}) if self.visible(req) else []
        if not found:
            raise errors.NetworkNotFound(id=network_id)
        return {"network_ip_availability": render.select_fields(req, found[0])}
