"""``/v3/{project_id}/types``: volume types, their extra specs and project access.

Type management is admin-only and Cinder enforces that (403) before it reads the body
(400): the bodies are validated inside the handlers."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.common.context import RequestContext
from pocketstack.volume import errors
from pocketstack.volume import models as m
from pocketstack.volume.api import render, schemas
from pocketstack.volume.api.actions import parse_action
from pocketstack.volume.api.common import PREFIX, accepted, reject_invalid_filters, to_bool
from pocketstack.volume.api.volumes import literal_filter
from pocketstack.volume.qos import Qos
from pocketstack.volume.types import Types

GET = "volume_extension:type_get"
TYPE_FILTERS = ("is_public", "extra_specs")  # Cinder's resource_filters.json
MANAGE = "volume_extension:types_manage"


def is_public_filter(value: str | None, context: RequestContext | None) -> bool | None:
    """The type listing's ``is_public`` as Cinder reads it: only the admin's counts,
    ``True`` by default and ``none`` for every type; anyone else always lists the public
    types and those shared with its project (see ``Types.list``)."""
    if value is None or context is None or not context.is_admin:
        return True
    if value.lower() == "none":
        return None
    try:
        return to_bool(value, "is_public")
    except errors.BadRequest:
        raise errors.InvalidIsPublicFilter(value=value) from None


def update_values(spec: dict) -> dict[str, Any]:
    """What a type update changes: name, description, is_public (at least one)."""
    values: dict[str, Any] = {k: spec[k] for k in ("name", "description") if k in spec}
    if "is_public" in spec:
        values["is_public"] = to_bool(spec["is_public"], "is_public")
    if not values:
        raise errors.VolumeTypeUpdateEmpty()
    return values


def extra_spec_item(key: str, payload: Any) -> dict:
    """The body of ``PUT .../extra_specs/{key}``: ``{key: value}``, the URL's key only."""
    if not isinstance(payload, dict) or list(payload) != [key]:
        raise errors.BodyUriMismatch()
    return payload


class TypesApi:
    def __init__(self, types: Types, qos: Qos):
        self.types = types
        self.qos = qos

    def rendered(self, *rows: m.VolumeType, view: str = "show") -> list[dict]:
        qos = self.qos.by_type(t.id for t in rows)
        return [render.volume_type(t, qos.get(t.id), view) for t in rows]

    @route.get(PREFIX + "/types", policy=GET)
    def index(self, req: ApiRequest) -> dict:
        """The types; ``extra_specs`` filters them (3.52, where a non-admin's other
        filters are refused; before it only the admin's filter counts, as in Cinder)."""
        req.authorize()
        context = req.caller
        if req.at_least(3, 52):
            reject_invalid_filters(req, TYPE_FILTERS)
        specs = None
        if "extra_specs" in req.query and (req.at_least(3, 52) or context.is_admin):
            specs = {str(k): str(v) for k, v in literal_filter(req.query["extra_specs"], "extra_specs").items()}
        rows = self.types.list(context, is_public_filter(req.query.get("is_public"), context), specs)
        return {"volume_types": self.rendered(*rows)}

    @route.get(PREFIX + "/types/default")
    def default(self, req: ApiRequest) -> dict:
        """The default type, as anyone sees it (Cinder checks no rule here)."""
        return {"volume_type": self.rendered(self.types.resolve(req.caller, None))[0]}

    @route.get(PREFIX + "/types/{type_id}", policy=GET)
    def show(self, req: ApiRequest) -> dict:
        req.authorize()
        return {"volume_type": self.rendered(self.types.get(req.caller, req.path_params["type_id"]))[0]}

    @route.post(PREFIX + "/types", policy=MANAGE, body=schemas.CREATE_TYPE, authorize_first=True)
    def create(self, req: ApiRequest) -> dict:
        req.authorize()
        spec = req.data["volume_type"]
        public = to_bool(spec.get("os-volume-type-access:is_public", True), "is_public")
        vtype = self.types.create(spec["name"].strip(), spec.get("description"), public,
                                  spec.get("extra_specs") or {})
        return {"volume_type": self.rendered(vtype, view="create")[0]}

    @route.put(PREFIX + "/types/{type_id}", policy=MANAGE, body=schemas.UPDATE_TYPE, authorize_first=True)
    def update(self, req: ApiRequest) -> dict:
        req.authorize()
        values = update_values(req.data["volume_type"])
        return {"volume_type": self.rendered(self.types.update(req.caller, req.path_params["type_id"], values),
                                             view="update")[0]}

    @route.delete(PREFIX + "/types/{type_id}", policy=MANAGE)
    def delete(self, req: ApiRequest) -> Response:
        req.authorize()
        self.types.delete(req.caller, req.path_params["type_id"])
        return accepted()

    # -- extra specs --------------------------------------------------------------------------
    @route.get(PREFIX + "/types/{type_id}/extra_specs", policy=GET)
    def specs(self, req: ApiRequest) -> dict:
        req.authorize()
        return {"extra_specs": self.types.get(req.caller, req.path_params["type_id"]).extra_specs}

    @route.post(PREFIX + "/types/{type_id}/extra_specs", policy=MANAGE, body=schemas.SET_EXTRA_SPECS,
                authorize_first=True)
    def set_specs(self, req: ApiRequest) -> dict:
        req.authorize()
        specs = req.data["extra_specs"]
        self.types.set_extra_specs(req.caller, req.path_params["type_id"], specs)
        return {"extra_specs": {k: str(v) for k, v in specs.items()}}

    @route.get(PREFIX + "/types/{type_id}/extra_specs/{key}", policy=GET)
    def spec(self, req: ApiRequest) -> dict:
        req.authorize()
        type_id, key = req.path_params["type_id"], req.path_params["key"]
        specs = self.types.get(req.caller, type_id).extra_specs
        if key not in specs:
            raise errors.VolumeTypeExtraSpecsNotFound(volume_type_id=type_id, extra_specs_key=key)
        return {key: specs[key]}

    @route.put(PREFIX + "/types/{type_id}/extra_specs/{key}", policy=MANAGE)
    def put_spec(self, req: ApiRequest) -> dict:
        req.authorize()
        key = req.path_params["key"]
        payload = extra_spec_item(key, req.json())
        self.types.set_extra_specs(req.caller, req.path_params["type_id"], payload)
        return {key: str(payload[key])}

    @route.delete(PREFIX + "/types/{type_id}/extra_specs/{key}", policy=MANAGE)
    def delete_spec(self, req: ApiRequest) -> Response:
        req.authorize()
        self.types.set_extra_specs(req.caller, req.path_params["type_id"], {}, remove=req.path_params["key"])
        return accepted()

    # -- project access -----------------------------------------------------------------------
    @route.get(PREFIX + "/types/{type_id}/os-volume-type-access", policy=MANAGE)
    def access(self, req: ApiRequest) -> dict:
        req.authorize()
        type_id = req.path_params["type_id"]
        return {"volume_type_access": [{"volume_type_id": type_id, "project_id": p}
                                       for p in self.types.access(req.caller, type_id)]}

    @route.post(PREFIX + "/types/{type_id}/action")
    def action(self, req: ApiRequest) -> Response:
        """``addProjectAccess``/``removeProjectAccess``, each its own rule, checked after the body."""
        name, args = parse_action(req.json(), schemas.TYPE_ACCESS_ACTIONS)
        req.authorize(f"volume_extension:volume_type_access:{name}")
        type_id, project = req.path_params["type_id"], args["project"]
        if name == "addProjectAccess":
            self.types.add_access(req.caller, type_id, project)
        else:
            self.types.remove_access(req.caller, type_id, project)
        return Response(status_code=202)
