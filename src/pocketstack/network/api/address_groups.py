"""An address group's addresses (Neutron's address-group member actions):
``add_addresses`` and ``remove_addresses`` answer ``{"address_group": {...}}``, the group
as it is after the change.  The group itself is a plain collection (:mod:`.resources`)."""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.network.api import render
from pocketstack.network.api.schemas import ADDRESSES_BODY
from pocketstack.network.manager import NetworkManager

GROUP = "/v2.0/address-groups/{address_group_id}"


class AddressGroupAddressesApi:
    def __init__(self, manager: NetworkManager):
        self.manager = manager

    def _change(self, req: ApiRequest, add: bool) -> dict:
        # The group first (404 for one the caller does not see), then the route's rule on it.
        item = self.manager.get(req.caller, "address-groups", req.path_params["address_group_id"])
        req.authorize(target=item)
        item = self.manager.change_addresses(req.caller, item["id"], req.data["addresses"], add=add,
                                             revision=render.if_match_revision(req))
        return render.one(req, "address_group", item)

    @route.put(GROUP + "/add_addresses", policy="add_addresses", body=ADDRESSES_BODY)
    def add(self, req: ApiRequest):
        return self._change(req, add=True)

    @route.put(GROUP + "/remove_addresses", policy="remove_addresses", body=ADDRESSES_BODY)
    def remove(self, req: ApiRequest):
        return self._change(req, add=False)
