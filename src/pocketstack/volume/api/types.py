"""``/v3/{project_id}/types``: volume types, their extra specs and project access."""

from __future__ import annotations

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.errors import BadRequest, NotFound
from pocketstack.volume.api import render
from pocketstack.volume.api.common import PREFIX, accepted, body, to_bool
from pocketstack.volume.api.schemas import action as action_schema
from pocketstack.volume.api.validation import validate

SPECS = {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}}
CREATE = {"type": "object", "properties": {
    "name": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": {"type": ["string", "null"], "maxLength": 255},
    "os-volume-type-access:is_public": {"type": ["boolean", "string"]},
    "extra_specs": SPECS}, "required": ["name"]}
ACCESS_ACTIONS = {name: action_schema(name, {"project": {"type": "string", "minLength": 1, "maxLength": 255}},
                                     required=("project",)) for name in ("addProjectAccess", "removeProjectAccess")}
UPDATE = {"type": "object", "properties": {
    "name": {"type": ["string", "null"], "minLength": 1, "maxLength": 255},
    "description": {"type": ["string", "null"], "maxLength": 255},
    "is_public": {"type": ["boolean", "string"]}}}


def is_public_filter(req: ApiRequest) -> bool | None:
    """The type listing's ``is_public`` as Cinder reads it: only the admin's counts,
    ``True`` by default and ``none`` for every type; anyone else always lists the public
    types and those shared with its project (see ``Types.list``)."""
    value = req.query.get("is_public")
    if value is None or not req.context.is_admin:
        return True
    if value.lower() == "none":
        return None
    try:
        return to_bool(value, "is_public")
    except BadRequest:
        raise BadRequest(f"Invalid is_public filter [{value}]") from None


def register(router, service) -> None:
    types = service.types

    def rendered(*rows, view: str = "show") -> list[dict]:
        qos = service.qos.by_type(t.id for t in rows)
        return [render.volume_type(t, qos.get(t.id), view) for t in rows]

    @router.get(PREFIX + "/types")
    def list_types(req: ApiRequest):
        req.authorize("volume_extension:type_get")
        return {"volume_types": rendered(*types.list(req.context, is_public_filter(req)))}

    @router.get(PREFIX + "/types/default")
    def default(req: ApiRequest):
        return {"volume_type": rendered(types.resolve(req.context, None))[0]}

    @router.get(PREFIX + "/types/{type_id}")
    def show(req: ApiRequest):
        req.authorize("volume_extension:type_get")
        return {"volume_type": rendered(types.get(req.context, req.path_params["type_id"]))[0]}

    @router.post(PREFIX + "/types")
    def create(req: ApiRequest):
        req.authorize("volume_extension:types_manage")
        spec = body(req, CREATE, "volume_type")
        public = to_bool(spec.get("os-volume-type-access:is_public", True), "is_public")
        vtype = types.create(spec["name"].strip(), spec.get("description"), public, spec.get("extra_specs") or {})
        return {"volume_type": rendered(vtype, view="create")[0]}

    @router.put(PREFIX + "/types/{type_id}")
    def update(req: ApiRequest):
        req.authorize("volume_extension:types_manage")
        spec = body(req, UPDATE, "volume_type")
        values = {k: spec[k] for k in ("name", "description") if k in spec}
        if "is_public" in spec:
            values["is_public"] = to_bool(spec["is_public"], "is_public")
        if not values:
            raise BadRequest("Specify volume type name, description, is_public or a combination thereof.")
        return {"volume_type": rendered(types.update(req.context, req.path_params["type_id"], values),
                                        view="update")[0]}

    @router.delete(PREFIX + "/types/{type_id}")
    def delete(req: ApiRequest):
        req.authorize("volume_extension:types_manage")
        types.delete(req.context, req.path_params["type_id"])
        return accepted()

    @router.get(PREFIX + "/types/{type_id}/extra_specs")
    def get_specs(req: ApiRequest):
        req.authorize("volume_extension:type_get")
        return {"extra_specs": types.get(req.context, req.path_params["type_id"]).extra_specs}

    @router.post(PREFIX + "/types/{type_id}/extra_specs")
    def set_specs(req: ApiRequest):
        req.authorize("volume_extension:types_manage")
        specs = body(req, SPECS, "extra_specs")
        types.set_extra_specs(req.context, req.path_params["type_id"], specs)
        return {"extra_specs": {k: str(v) for k, v in specs.items()}}

    @router.get(PREFIX + "/types/{type_id}/extra_specs/{key}")
    def get_spec(req: ApiRequest):
        req.authorize("volume_extension:type_get")
        specs = types.get(req.context, req.path_params["type_id"]).extra_specs
        key = req.path_params["key"]
        if key not in specs:
            raise NotFound(f"Volume Type {req.path_params['type_id']} has no extra specs with key {key}.")
        return {key: specs[key]}

    @router.put(PREFIX + "/types/{type_id}/extra_specs/{key}")
    def put_spec(req: ApiRequest):
        req.authorize("volume_extension:types_manage")
        payload = req.json()
        key = req.path_params["key"]
        if not isinstance(payload, dict) or list(payload) != [key]:
            raise BadRequest("Request body and URI mismatch")
        types.set_extra_specs(req.context, req.path_params["type_id"], payload)
        return {key: str(payload[key])}

    @router.delete(PREFIX + "/types/{type_id}/extra_specs/{key}")
    def delete_spec(req: ApiRequest):
        req.authorize("volume_extension:types_manage")
        types.set_extra_specs(req.context, req.path_params["type_id"], {}, remove=req.path_params["key"])
        return accepted()

    @router.get(PREFIX + "/types/{type_id}/os-volume-type-access")
    def list_access(req: ApiRequest):
        req.authorize("volume_extension:types_manage")
        type_id = req.path_params["type_id"]
        return {"volume_type_access": [{"volume_type_id": type_id, "project_id": p}
                                       for p in types.access(req.context, type_id)]}

    @router.post(PREFIX + "/types/{type_id}/action")
    def action(req: ApiRequest):
        payload = req.json()
        if not isinstance(payload, dict) or len(payload) != 1:
            raise BadRequest("Malformed request body: exactly one action is expected.")
        name = next(iter(payload))
        if name not in ACCESS_ACTIONS:
            raise BadRequest(f"There is no such action: {name}")
        project = validate(payload, ACCESS_ACTIONS[name])[name]["project"]
        req.authorize(f"volume_extension:volume_type_access:{name}")
        type_id = req.path_params["type_id"]
        if name == "addProjectAccess":
            types.add_access(req.context, type_id, project)
        else:
            types.remove_access(req.context, type_id, project)
        return Response(status_code=202)
