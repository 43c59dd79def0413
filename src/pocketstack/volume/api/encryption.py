"""``/v3/{project_id}/types/{type_id}/encryption``: a volume type's encryption specs
(admin).  Bodies are checked first, then the rule, as Cinder's schema decorators run;
create and update answer with the body (create adds the type's and the new ids)."""

from __future__ import annotations

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.volume import errors
from pocketstack.volume import models as m
from pocketstack.volume.api import schemas
from pocketstack.volume.api.common import PREFIX, accepted
from pocketstack.volume.encryption import Encryptions

BASE = PREFIX + "/types/{type_id}/encryption"


def specs(body: dict) -> dict:
    """The request's specs with ``key_size`` a number, as Cinder stores and echoes them."""
    spec = dict(body["encryption"])
    if spec.get("key_size") is not None:
        spec["key_size"] = int(spec["key_size"])
    return spec


def view(row: m.VolumeTypeEncryption | None) -> dict:
    """Cinder's row as a dict; ``{}`` when the type is not encrypted."""
    if row is None:
        return {}
    return {"volume_type_id": row.volume_type_id, "encryption_id": row.encryption_id, "provider": row.provider,
            "control_location": row.control_location, "cipher": row.cipher, "key_size": row.key_size,
            "created_at": row.created_at, "updated_at": row.updated_at, "deleted": False, "deleted_at": None}


class EncryptionApi:
    def __init__(self, encryptions: Encryptions):
        self.encryptions = encryptions

    @route.get(BASE, policy="volume_extension:volume_type_encryption:get")
    def show(self, req: ApiRequest) -> dict:
        req.authorize()
        return view(self.encryptions.show(req.caller, req.path_params["type_id"]))

    @route.get(BASE + "/{key}", policy="volume_extension:volume_type_encryption:get")
    def item(self, req: ApiRequest) -> dict:
        req.authorize()
        type_id, key = req.path_params["type_id"], req.path_params["key"]
        found = view(self.encryptions.show(req.caller, type_id))
        if key not in found:
            raise errors.VolumeTypeEncryptionNotFound(type_id=type_id)
        return {key: found[key]}

    @route.post(BASE, policy="volume_extension:volume_type_encryption:create", body=schemas.ENCRYPTION_CREATE)
    def create(self, req: ApiRequest) -> dict:
        req.authorize()
        type_id, spec = req.path_params["type_id"], specs(req.data)
        encryption_id = self.encryptions.create(req.caller, type_id, spec)
        return {"encryption": {**spec, "volume_type_id": type_id, "encryption_id": encryption_id}}

    @route.put(BASE + "/{encryption_id}", policy="volume_extension:volume_type_encryption:update",
               body=schemas.ENCRYPTION_UPDATE)
    def update(self, req: ApiRequest) -> dict:
        req.authorize()
        spec = specs(req.data)
        self.encryptions.update(req.caller, req.path_params["type_id"], spec)
        return {"encryption": spec}

    @route.delete(BASE + "/{encryption_id}", policy="volume_extension:volume_type_encryption:delete")
    def delete(self, req: ApiRequest) -> Response:
        req.authorize()
        self.encryptions.delete(req.caller, req.path_params["type_id"])
        return accepted()
