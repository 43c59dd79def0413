"""``/v3/{project_id}/qos-specs``: create, list, show, set/unset keys, delete, associate."""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.errors import BadRequest
from pocketstack.volume.api.common import PREFIX, accepted, body, flag, links

CREATE = {"type": "object", "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 255},
                                           "consumer": {"type": "string"}},
          "additionalProperties": {"type": ["string", "number", "boolean"]}, "required": ["name"]}
KEYS = {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}}
UNSET = {"type": "object", "properties": {"keys": {"type": "array", "items": {"type": "string"}}},
         "required": ["keys"]}


def register(router, service) -> None:
    qos = service.qos

    def render(q) -> dict:
        return {"id": q.id, "name": q.name, "consumer": q.consumer, "specs": q.specs}

    def type_id(req: ApiRequest) -> str:
        value = req.query.get("vol_type_id")
        if not value:
            raise BadRequest("Required parameter vol_type_id is missing.")
        return value

    @router.post(PREFIX + "/qos-specs")
    def create(req: ApiRequest):
        req.authorize("volume_extension:qos_specs_manage:create")
        spec = body(req, CREATE, "qos_specs")
        name, consumer = spec.pop("name"), spec.pop("consumer", "back-end")
        q = qos.create(name, consumer, spec)
        return {"qos_specs": render(q), "links": links(req, "qos-specs", q.id)}

    @router.get(PREFIX + "/qos-specs")
    def list_qos(req: ApiRequest):
        req.authorize("volume_extension:qos_specs_manage:get_all")
        return {"qos_specs": [render(q) for q in qos.list()]}

    @router.get(PREFIX + "/qos-specs/{qos_id}")
    def show(req: ApiRequest):
        req.authorize("volume_extension:qos_specs_manage:get")
        q = qos.get(req.path_params["qos_id"])
        return {"qos_specs": render(q), "links": links(req, "qos-specs", q.id)}

    @router.put(PREFIX + "/qos-specs/{qos_id}")
    def set_keys(req: ApiRequest):
        req.authorize("volume_extension:qos_specs_manage:update")
        return {"qos_specs": qos.set_keys(req.path_params["qos_id"], body(req, KEYS, "qos_specs"))}

    @router.put(PREFIX + "/qos-specs/{qos_id}/delete_keys")
    def unset_keys(req: ApiRequest):
        req.authorize("volume_extension:qos_specs_manage:update")
        keys = body(req, UNSET["properties"]["keys"], "keys")
        qos.unset_keys(req.path_params["qos_id"], keys)
        return accepted()

    @router.delete(PREFIX + "/qos-specs/{qos_id}")
    def delete(req: ApiRequest):
        req.authorize("volume_extension:qos_specs_manage:delete")
        qos.delete(req.path_params["qos_id"], flag(req, "force"))
        return accepted()

    @router.get(PREFIX + "/qos-specs/{qos_id}/associations")
    def associations(req: ApiRequest):
        req.authorize("volume_extension:qos_specs_manage:get")
        return {"qos_associations": [{"association_type": "volume_type", "name": t.name, "id": t.id}
                                     for t in qos.associations(req.path_params["qos_id"])]}

    @router.get(PREFIX + "/qos-specs/{qos_id}/associate")
    def associate(req: ApiRequest):
        req.authorize("volume_extension:qos_specs_manage:update")
        qos.associate(req.path_params["qos_id"], type_id(req))
        return accepted()

    @router.get(PREFIX + "/qos-specs/{qos_id}/disassociate")
    def disassociate(req: ApiRequest):
        req.authorize("volume_extension:qos_specs_manage:update")
        qos.disassociate(req.path_params["qos_id"], type_id(req))
        return accepted()

    @router.get(PREFIX + "/qos-specs/{qos_id}/disassociate_all")
    def disassociate_all(req: ApiRequest):
        req.authorize("volume_extension:qos_specs_manage:update")
        qos.disassociate(req.path_params["qos_id"], None)
        return accepted()
