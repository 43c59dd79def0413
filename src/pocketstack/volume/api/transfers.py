"""``/v3/{project_id}/os-volume-transfer``: create (the auth key is shown once), list
(summary and detail), show, delete, and accept by another project with the key.

The same API moved to ``/volume-transfers`` at microversion 3.55, above the maximum this
service announces (3.44), so only the legacy path is served."""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.volume import models as m
from pocketstack.volume.api.common import PREFIX, accepted, all_projects, authorize_on_volume, body, links
from pocketstack.volume.api.schemas import UUID

BASE = PREFIX + "/os-volume-transfer"
CREATE = {"type": "object", "properties": {
    "volume_id": UUID, "name": {"type": ["string", "null"], "minLength": 0, "maxLength": 255}},
    "required": ["volume_id"], "additionalProperties": False}
ACCEPT = {"type": "object", "properties": {"auth_key": {"type": ["string", "integer"]}},
          "required": ["auth_key"], "additionalProperties": False}


def summary(req: ApiRequest, t: m.Transfer) -> dict:
    return {"id": t.id, "name": t.name, "volume_id": t.volume_id, "links": links(req, "os-volume-transfer", t.id)}


def detail(req: ApiRequest, t: m.Transfer) -> dict:
    return {**summary(req, t), "created_at": t.created_at}


def register(router, service) -> None:
    transfers = service.transfers

    @router.post(BASE)
    def create(req: ApiRequest):
        spec = body(req, CREATE, "transfer")
        authorize_on_volume(req, "volume:create_transfer", service.volumes, spec["volume_id"])
        transfer, auth_key = transfers.create(req.context, spec["volume_id"], spec.get("name"))
        return accepted({"transfer": {**detail(req, transfer), "auth_key": auth_key}})

    def listing(req: ApiRequest, view):
        req.authorize("volume:get_all_transfers", {"project_id": req.context.project_id})
        return {"transfers": [view(req, t) for t in transfers.list(req.context, all_projects(req))]}

    @router.get(BASE)
    def list_transfers(req: ApiRequest):
        return listing(req, summary)

    @router.get(BASE + "/detail")
    def list_detail(req: ApiRequest):
        return listing(req, detail)

    @router.get(BASE + "/{transfer_id}")
    def show(req: ApiRequest):
        transfer = transfers.get(req.context, req.path_params["transfer_id"])
        req.authorize("volume:get_transfer", {"project_id": transfer.project_id})
        return {"transfer": detail(req, transfer)}

    @router.delete(BASE + "/{transfer_id}")
    def delete(req: ApiRequest):
        transfer = transfers.get(req.context, req.path_params["transfer_id"])
        req.authorize("volume:delete_transfer", {"project_id": transfer.project_id})
        transfers.delete(req.context, transfer.id)
        return accepted()

    @router.post(BASE + "/{transfer_id}/accept")
    def accept(req: ApiRequest):
        req.authorize("volume:accept_transfer", {"project_id": req.context.project_id})
        auth_key = str(body(req, ACCEPT, "accept")["auth_key"])
        return accepted({"transfer": summary(req, transfers.accept(req.context, req.path_params["transfer_id"],
                                                                   auth_key))})
