"""2.97's ``/servers/{id}/shares``: Manila shares attached to a server (virtiofs).

No host here reports ``COMPUTE_STORAGE_VIRTIO_FS`` (neither driver gives a guest a
virtiofs file system), so a server never has a share: the list is empty, a share is
not found (404), and an attach that passes Nova's checks of the server (found, policy,
stopped) gets Nova's answer for a host without that support (409) before any share
service would be asked. A detach finds no share (404) once the server's state allows it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.compute import errors
from pocketstack.compute import states as st
from pocketstack.compute.api.common import get_instance

if TYPE_CHECKING:
    from pocketstack.compute.manager import Compute

_RULE = "os_compute_api:os-server-shares:{}"
CREATE = {"type": "object", "required": ["share"], "additionalProperties": False, "properties": {
    "share": {"type": "object", "required": ["share_id"], "additionalProperties": False, "properties": {
        "share_id": {"type": "string", "format": "uuid",  # the checker's: a UUID, dashes or not
                     "pattern": "^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"},
        "tag": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[a-zA-Z0-9-]*$"}}}}}


class ServerSharesApi:
    def __init__(self, compute: Compute):
        self.compute = compute

    def server(self, req: ApiRequest, action: str, allowed: tuple[str, ...] = ()):
        rule = _RULE.format(action)
        inst = get_instance(self.compute, req, req.path_params["server_id"], rule)
        if allowed and inst.vm_state not in allowed:
            raise errors.InstanceInvalidState(action=f"{action} share", instance_id=inst.id,
                                              attribute="vm_state", state=inst.vm_state)
        return inst

    @route.get("/v2.1/servers/{server_id}/shares", policy=_RULE.format("index"), since="2.97", query=())
    def index(self, req: ApiRequest):
        self.server(req, "index")
        return {"shares": []}

    @route.post("/v2.1/servers/{server_id}/shares", policy=_RULE.format("create"), since="2.97", body=CREATE,
                status=201)
    def create(self, req: ApiRequest):
        self.server(req, "create", (st.STOPPED,))
        raise errors.SharesNotConfigured()

    @route.get("/v2.1/servers/{server_id}/shares/{share_id}", policy=_RULE.format("show"), since="2.97",
               query=())
    def show(self, req: ApiRequest):
        self.server(req, "show")
        raise errors.ShareNotFound(share_id=req.path_params["share_id"])

    @route.delete("/v2.1/servers/{server_id}/shares/{share_id}", policy=_RULE.format("delete"), since="2.97")
    def delete(self, req: ApiRequest):
        self.server(req, "delete", (st.STOPPED, st.ERROR))
        raise errors.ShareNotFound(share_id=req.path_params["share_id"])
