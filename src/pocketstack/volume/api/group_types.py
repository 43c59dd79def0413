"""``/v3/{project_id}/group_types`` (3.11+): group types and their group specs.

Listing and showing are open to everyone (Cinder checks no rule; only the admin sees
private types and the specs); managing them is the admin's.  Bodies are checked first,
then the rule, as Cinder's schema decorators run before its handlers."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import route
from pocketstack.volume import errors
from pocketstack.volume.api import render, schemas
from pocketstack.volume.api.common import PREFIX, accepted, offset, page_links, paging, to_bool
from pocketstack.volume.api.types import is_public_filter
from pocketstack.volume.group_types import GroupTypes

BASE = PREFIX + "/group_types"
SINCE = "3.11"
SORT_KEYS = ("id", "name", "created_at", "description", "is_public")


def update_values(spec: dict) -> dict[str, Any]:
    """What a group type update changes, refused as Cinder refuses it."""
    name = spec.get("name")
    if name is not None and not name.strip():
        raise errors.GroupTypeNameEmpty()
    values: dict[str, Any] = {k: spec[k] for k in ("name", "description") if spec.get(k) is not None}
    if spec.get("is_public") is not None:
        values["is_public"] = to_bool(spec["is_public"], "is_public")
    if not values:
        raise errors.GroupTypeUpdateEmpty()
    return values


class GroupTypesApi:
    def __init__(self, group_types: GroupTypes):
        self.group_types = group_types

    @route.get(BASE, since=SINCE)
    def index(self, req: ApiRequest) -> dict:
        page = paging(req, SORT_KEYS)
        rows = self.group_types.list(req.caller, is_public_filter(req.query.get("is_public"), req.caller), page,
                                     offset(req))
        return {"group_types": [render.group_type(req, t) for t in rows],
                **page_links(req, "group_type", rows, page, "group_types")}

    @route.get(BASE + "/default", since=SINCE)
    def default(self, req: ApiRequest) -> dict:
        """No default group type is configured (Cinder's ``default_group_type`` unset)."""
        raise errors.DefaultGroupTypeNotFound()

    @route.get(BASE + "/{group_type_id}", since=SINCE)
    def show(self, req: ApiRequest) -> dict:
        gtype = self.group_types.get(req.caller, req.path_params["group_type_id"])
        return {"group_type": render.group_type(req, gtype)}

    @route.post(BASE, policy="group:group_types:create", body=schemas.GROUP_TYPE_CREATE, since=SINCE, status=202)
    def create(self, req: ApiRequest) -> dict:
        req.authorize()
        spec = req.data["group_type"]
        gtype = self.group_types.create(spec["name"], spec.get("description"),
                                        to_bool(spec.get("is_public", True), "is_public"),
                                        spec.get("group_specs") or {})
        return {"group_type": render.group_type(req, gtype)}

    @route.put(BASE + "/{group_type_id}", policy="group:group_types:update", body=schemas.GROUP_TYPE_UPDATE,
               since=SINCE)
    def update(self, req: ApiRequest) -> dict:
        req.authorize()
        values = update_values(req.data["group_type"])
        return {"group_type": render.group_type(req, self.group_types.update(
            req.caller, req.path_params["group_type_id"], values))}

    @route.delete(BASE + "/{group_type_id}", policy="group:group_types:delete", since=SINCE)
    def delete(self, req: ApiRequest) -> Response:
        req.authorize()
        self.group_types.delete(req.caller, req.path_params["group_type_id"])
        return accepted()

    # -- group specs ----------------------------------------------------------------------
    @route.get(BASE + "/{group_type_id}/group_specs", policy="group:group_types_specs:get_all", since=SINCE)
    def specs(self, req: ApiRequest) -> dict:
        req.authorize()
        return {"group_specs": self.group_types.get(req.caller, req.path_params["group_type_id"]).group_specs}

    @route.post(BASE + "/{group_type_id}/group_specs", policy="group:group_types_specs:create",
                body=schemas.GROUP_SPECS, since=SINCE)
    def set_specs(self, req: ApiRequest) -> Response:
        req.authorize()
        specs = req.data["group_specs"]
        self.group_types.set_specs(req.caller, req.path_params["group_type_id"], specs)
        return json_response({"group_specs": specs}, status=202)

    @route.get(BASE + "/{group_type_id}/group_specs/{key}", policy="group:group_types_specs:get", since=SINCE)
    def spec(self, req: ApiRequest) -> dict:
        req.authorize()
        type_id, key = req.path_params["group_type_id"], req.path_params["key"]
        specs = self.group_types.get(req.caller, type_id).group_specs
        if key not in specs:
            raise errors.GroupTypeSpecNotFound(group_type_id=type_id, key=key)
        return {key: specs[key]}

    @route.put(BASE + "/{group_type_id}/group_specs/{key}", policy="group:group_types_specs:update", since=SINCE,
               body=schemas.GROUP_SPEC_ITEM)
    def put_spec(self, req: ApiRequest) -> dict:
        payload = req.data
        req.authorize()
        key = req.path_params["key"]
        if key not in payload:
            raise errors.BodyUriMismatch()
        self.group_types.set_specs(req.caller, req.path_params["group_type_id"], payload)
        return payload

    @route.delete(BASE + "/{group_type_id}/group_specs/{key}", policy="group:group_types_specs:delete",
                  since=SINCE)
    def delete_spec(self, req: ApiRequest) -> Response:
        req.authorize()
        self.group_types.set_specs(req.caller, req.path_params["group_type_id"], {}, remove=req.path_params["key"])
        return accepted()
