"""``/v3/{project_id}/qos-specs``: create, list, show, set/unset keys, delete, associate.

Admin-only; Cinder enforces the rule (403) before it reads the body (400)."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.volume import errors
from pocketstack.volume import models as m
from pocketstack.volume.api import schemas
from pocketstack.volume.api.common import PREFIX, accepted, flag, links
from pocketstack.volume.qos import Qos

RULE = "volume_extension:qos_specs_manage:"


def view(q: m.QosSpecs) -> dict:
    return {"id": q.id, "name": q.name, "consumer": q.consumer, "specs": q.specs}


def type_id(query: Mapping[str, str]) -> str:
    """The ``vol_type_id`` an (dis)association names."""
    value = query.get("vol_type_id")
    if not value:
        raise errors.MissingVolumeTypeId()
    return value


class QosApi:
    def __init__(self, qos: Qos):
        self.qos = qos

    @route.post(PREFIX + "/qos-specs", policy=RULE + "create", body=schemas.CREATE_QOS, authorize_first=True)
    def create(self, req: ApiRequest) -> dict:
        req.authorize()
        spec = req.data["qos_specs"]
        name, consumer = spec.pop("name"), spec.pop("consumer", "back-end")
        q = self.qos.create(name, consumer, spec)
        return {"qos_specs": view(q), "links": links(req, "qos-specs", q.id)}

    @route.get(PREFIX + "/qos-specs", policy=RULE + "get_all")
    def index(self, req: ApiRequest) -> dict:
        req.authorize()
        return {"qos_specs": [view(q) for q in self.qos.list()]}

    @route.get(PREFIX + "/qos-specs/{qos_id}", policy=RULE + "get")
    def show(self, req: ApiRequest) -> dict:
        req.authorize()
        q = self.qos.get(req.path_params["qos_id"])
        return {"qos_specs": view(q), "links": links(req, "qos-specs", q.id)}

    @route.put(PREFIX + "/qos-specs/{qos_id}", policy=RULE + "update", body=schemas.SET_QOS_KEYS,
               authorize_first=True)
    def set_keys(self, req: ApiRequest) -> dict:
        req.authorize()
        return {"qos_specs": self.qos.set_keys(req.path_params["qos_id"], req.data["qos_specs"])}

    @route.put(PREFIX + "/qos-specs/{qos_id}/delete_keys", policy=RULE + "update", body=schemas.UNSET_QOS_KEYS,
               authorize_first=True)
    def unset_keys(self, req: ApiRequest) -> Response:
        req.authorize()
        self.qos.unset_keys(req.path_params["qos_id"], req.data["keys"])
        return accepted()

    @route.delete(PREFIX + "/qos-specs/{qos_id}", policy=RULE + "delete")
    def delete(self, req: ApiRequest) -> Response:
        req.authorize()
        self.qos.delete(req.path_params["qos_id"], flag(req, "force"))
        return accepted()

    @route.get(PREFIX + "/qos-specs/{qos_id}/associations", policy=RULE + "get")
    def associations(self, req: ApiRequest) -> dict:
        req.authorize()
        return {"qos_associations": [{"association_type": "volume_type", "name": t.name, "id": t.id}
                                     for t in self.qos.associations(req.path_params["qos_id"])]}

    @route.get(PREFIX + "/qos-specs/{qos_id}/associate", policy=RULE + "update")
    def associate(self, req: ApiRequest) -> Response:
        req.authorize()
        self.qos.associate(req.path_params["qos_id"], type_id(req.query))
        return accepted()

    @route.get(PREFIX + "/qos-specs/{qos_id}/disassociate", policy=RULE + "update")
    def disassociate(self, req: ApiRequest) -> Response:
        req.authorize()
        self.qos.disassociate(req.path_params["qos_id"], type_id(req.query))
        return accepted()

    @route.get(PREFIX + "/qos-specs/{qos_id}/disassociate_all", policy=RULE + "update")
    def disassociate_all(self, req: ApiRequest) -> Response:
        req.authorize()
        self.qos.disassociate(req.path_params["qos_id"], None)
        return accepted()
