"""A trunk's subports (Neutron's trunk member actions): ``add_subports`` and
``remove_subports`` answer with the whole trunk, unwrapped, as Neutron does;
``get_subports`` with ``{"sub_ports": [...]}``.  The trunk itself is a plain collection
(:mod:`.resources`)."""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.network.api.schemas import SUBPORTS_BODY
from pocketstack.network.manager import NetworkManager

TRUNK = "/v2.0/trunks/{trunk_id}"


class TrunkSubportsApi:
    def __init__(self, manager: NetworkManager):
        self.manager = manager

    def _trunk(self, req: ApiRequest) -> dict:
        """The trunk the request names, once the route's rule allows the caller (404 first
        for a trunk it does not see)."""
        item = self.manager.get(req.caller, "trunks", req.path_params["trunk_id"])
        req.authorize(target=item)
        return item

    @route.get(TRUNK + "/get_subports", policy="get_subports")
    def subports(self, req: ApiRequest):
        return {"sub_ports": self._trunk(req)["sub_ports"]}

    @route.put(TRUNK + "/add_subports", policy="add_subports", body=SUBPORTS_BODY)
    def add(self, req: ApiRequest):
        return self.manager.change_subports(req.caller, self._trunk(req)["id"], req.data["sub_ports"], add=True)

    @route.put(TRUNK + "/remove_subports", policy="remove_subports", body=SUBPORTS_BODY)
    def remove(self, req: ApiRequest):
        return self.manager.change_subports(req.caller, self._trunk(req)["id"], req.data["sub_ports"], add=False)
