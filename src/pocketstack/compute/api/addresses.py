"""``/servers/{id}/ips`` (all networks, or one by its label) and
``/servers/{id}/os-server-password``.

There is no metadata service for a guest to post an encrypted password to, so every
server's password is empty; clearing it is accepted (and changes nothing).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.compute import errors
from pocketstack.compute.api.common import check_unlocked, get_instance
from pocketstack.compute.transitions import transition

if TYPE_CHECKING:
    from pocketstack.compute.manager import Compute


class AddressesApi:
    def __init__(self, compute: Compute):
        self.compute = compute

    def addresses(self, req: ApiRequest, rule: str) -> dict:
        inst = get_instance(self.compute, req, req.path_params["server_id"], rule)
        return self.compute.addresses([inst.id])[inst.id]

    @route.get("/v2.1/servers/{server_id}/ips", policy="os_compute_api:ips:index")
    def index(self, req: ApiRequest):
        return {"addresses": self.addresses(req, "os_compute_api:ips:index")}

    @route.get("/v2.1/servers/{server_id}/ips/{network_label}", policy="os_compute_api:ips:show")
    def show(self, req: ApiRequest):
        label = req.path_params["network_label"]
        found = self.addresses(req, "os_compute_api:ips:show")
        if label not in found:
            raise errors.NetworkLabelNotFound()
        return {label: found[label]}


class ServerPasswordApi:
    def __init__(self, compute: Compute):
        self.compute = compute

    @route.get("/v2.1/servers/{server_id}/os-server-password", policy="os_compute_api:os-server-password:show")
    def show(self, req: ApiRequest):
        inst = get_instance(self.compute, req, req.path_params["server_id"], "os_compute_api:os-server-password:show")
        return {"password": inst.password or ""}

    @route.delete("/v2.1/servers/{server_id}/os-server-password", policy="os_compute_api:os-server-password:clear",
                  status=204)
    def clear(self, req: ApiRequest):
        inst = get_instance(self.compute, req, req.path_params["server_id"],
                            "os_compute_api:os-server-password:clear")
        check_unlocked(req, inst)
        transition(self.compute.db, inst.id, {}, {"password": ""})  # the guest may post a new one
