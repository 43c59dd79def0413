"""``/v3/{project_id}/os-volume-transfer``: create (the auth key is shown once), list
(summary and detail), show, delete, and accept by another project with the key.

The same API moved to ``/volume-transfers`` at microversion 3.55, above the maximum this
service announces (3.44), so only the legacy path is served."""

from __future__ import annotations

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.volume import models as m
from pocketstack.volume.api import schemas
from pocketstack.volume.api.common import (
    PREFIX,
    accepted,
    all_projects,
    authorize_on_volume,
    body,
    is_detail,
    links,
    own_project,
)
from pocketstack.volume.transfers import Transfers
from pocketstack.volume.volumes import Volumes

BASE = PREFIX + "/os-volume-transfer"


def summary(req: ApiRequest, t: m.Transfer) -> dict:
    return {"id": t.id, "name": t.name, "volume_id": t.volume_id, "links": links(req, "os-volume-transfer", t.id)}


def detail(req: ApiRequest, t: m.Transfer) -> dict:
    return {**summary(req, t), "created_at": t.created_at}


class TransfersApi:
    def __init__(self, transfers: Transfers, volumes: Volumes):
        self.transfers = transfers
        self.volumes = volumes

    def load(self, req: ApiRequest) -> m.Transfer:
        transfer = self.transfers.get(req.caller, req.path_params["transfer_id"])
        req.authorize(target={"project_id": transfer.project_id})
        return transfer

    @route.post(BASE, policy="volume:create_transfer", body=schemas.CREATE_TRANSFER)
    def create(self, req: ApiRequest) -> Response:
        spec = req.data["transfer"]
        authorize_on_volume(req, self.volumes, spec["volume_id"])
        transfer, auth_key = self.transfers.create(req.caller, spec["volume_id"], spec.get("name"))
        return accepted({"transfer": {**detail(req, transfer), "auth_key": auth_key}})

    @route.get(BASE, policy="volume:get_all_transfers")
    @route.get(BASE + "/detail", policy="volume:get_all_transfers")
    def index(self, req: ApiRequest) -> dict:
        view = detail if is_detail(req) else summary
        req.authorize(target=own_project(req))
        return {"transfers": [view(req, t) for t in self.transfers.list(req.caller, all_projects(req))]}

    @route.get(BASE + "/{transfer_id}", policy="volume:get_transfer")
    def show(self, req: ApiRequest) -> dict:
        return {"transfer": detail(req, self.load(req))}

    @route.delete(BASE + "/{transfer_id}", policy="volume:delete_transfer")
    def delete(self, req: ApiRequest) -> Response:
        transfer = self.load(req)
        self.transfers.delete(req.caller, transfer.id)
        return accepted()

    @route.post(BASE + "/{transfer_id}/accept", policy="volume:accept_transfer")
    def accept(self, req: ApiRequest) -> Response:
        """Enforced on the caller's project before the body is read, as Cinder does."""
        req.authorize(target=own_project(req))
        auth_key = str(body(req, schemas.TRANSFER_ACCEPT, "accept")["auth_key"])
        return accepted({"transfer": summary(req, self.transfers.accept(req.caller, req.path_params["transfer_id"],
                                                                        auth_key))})
