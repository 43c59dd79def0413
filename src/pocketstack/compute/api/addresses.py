"""``/servers/{id}/ips`` (all networks, or one by its label) and
``/servers/{id}/os-server-password``.

There is no metadata service for a guest to post an encrypted password to, so every
server's password is empty; clearing it is accepted (and changes nothing).
"""

from __future__ import annotations

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import Router
from pocketstack.common.errors import NotFound
from pocketstack.compute.api.common import check_unlocked, get_instance


def register(router: Router, compute) -> None:
    def addresses(req: ApiRequest, rule: str) -> dict:
        inst = get_instance(compute, req, req.path_params["server_id"], rule)
        return compute.addresses([inst.id])[inst.id]

    @router.get("/v2.1/servers/{server_id}/ips")
    def list_ips(req: ApiRequest):
        return {"addresses": addresses(req, "os_compute_api:ips:index")}

    @router.get("/v2.1/servers/{server_id}/ips/{network_label}")
    def show_ips(req: ApiRequest):
        label = req.path_params["network_label"]
        found = addresses(req, "os_compute_api:ips:show")
        if label not in found:
            raise NotFound("There is no such network.")
        return {label: found[label]}

    @router.get("/v2.1/servers/{server_id}/os-server-password")
    def show_password(req: ApiRequest):
        get_instance(compute, req, req.path_params["server_id"], "os_compute_api:os-server-password:show")
        return {"password": ""}

    @router.delete("/v2.1/servers/{server_id}/os-server-password")
    def clear_password(req: ApiRequest):
        inst = get_instance(compute, req, req.path_params["server_id"], "os_compute_api:os-server-password:clear")
        check_unlocked(req, inst)
        return Response(status_code=204)
