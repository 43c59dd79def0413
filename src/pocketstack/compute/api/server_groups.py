"""``/os-server-groups``: 2.64 speaks ``policy`` + ``rules``, earlier versions ``policies``."""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import Router
from pocketstack.common.api.validation import parse_bool, validate
from pocketstack.common.errors import BadRequest, NotFound
from pocketstack.compute.api.common import at_least, int_query, is_admin
from pocketstack.compute.server_groups import POLICIES

_NAME = {"type": "string", "minLength": 1, "maxLength": 255}
CREATE_OLD = {"type": "object", "required": ["server_group"], "properties": {"server_group": {
    "type": "object", "required": ["name", "policies"], "additionalProperties": False, "properties": {
        "name": _NAME, "policies": {"type": "array", "minItems": 1, "maxItems": 1,
                                    "items": {"type": "string", "enum": list(POLICIES)}}}}}}
CREATE = {"type": "object", "required": ["server_group"], "properties": {"server_group": {
    "type": "object", "required": ["name", "policy"], "additionalProperties": False, "properties": {
        "name": _NAME, "policy": {"type": "string", "enum": list(POLICIES)},
        "rules": {"type": "object", "additionalProperties": False, "properties": {
            "max_server_per_host": {"type": ["integer", "string"], "pattern": "^[0-9]+$", "minimum": 1}}}}}}}


def register(router: Router, compute) -> None:
    groups = compute.groups

    def render(req: ApiRequest, group, members: list[str]) -> dict:
        out = {"id": group.id, "name": group.name, "members": members}
        if at_least(req, 2, 64):
            out["policy"] = group.policy
            out["rules"] = group.rules
        else:
            out["policies"] = [group.policy]
            out["metadata"] = {}
        if at_least(req, 2, 13):
            out["project_id"] = group.project_id
            out["user_id"] = group.user_id
        return out

    def visible(req: ApiRequest, group_id: str, rule: str):
        group = groups.get(group_id)
        if group.project_id != req.context.project_id and not is_admin(req):
            raise NotFound(f"Instance group {group_id} could not be found.")
        req.authorize(rule, {"project_id": group.project_id})
        return group

    @router.get("/v2.1/os-server-groups")
    def list_groups(req: ApiRequest):
        req.authorize("os_compute_api:os-server-groups:index", {"project_id": req.context.project_id})
        project_id = req.context.project_id
        if "all_projects" in req.query and (req.query["all_projects"] == ""
                                            or parse_bool(req.query["all_projects"], "all_projects")):
            req.authorize("os_compute_api:os-server-groups:index:all_projects")
            project_id = None
        rows = groups.list(project_id)
        offset, limit = int_query(req, "offset") or 0, int_query(req, "limit")
        rows = rows[offset:offset + limit] if limit is not None else rows[offset:]
        members = groups.members([g.id for g in rows])
        return {"server_groups": [render(req, g, members[g.id]) for g in rows]}

    @router.post("/v2.1/os-server-groups")
    def create_group(req: ApiRequest):
        req.authorize("os_compute_api:os-server-groups:create", {"project_id": req.context.project_id})
        if at_least(req, 2, 64):
            data = validate(req.json(), CREATE)["server_group"]
            policy, rules = data["policy"], data.get("rules") or {}
        else:
            data = validate(req.json(), CREATE_OLD)["server_group"]
            policy, rules = data["policies"][0], {}
        if "max_server_per_host" in rules:
            rules["max_server_per_host"] = int(rules["max_server_per_host"])
            if rules["max_server_per_host"] < 1:
                raise BadRequest("max_server_per_host must be at least 1.")
        group = groups.create(req.context.project_id, req.context.user_id, data["name"], policy, rules)
        return {"server_group": render(req, group, [])}

    @router.get("/v2.1/os-server-groups/{group_id}")
    def show_group(req: ApiRequest):
        group = visible(req, req.path_params["group_id"], "os_compute_api:os-server-groups:show")
        return {"server_group": render(req, group, groups.members([group.id])[group.id])}

    @router.delete("/v2.1/os-server-groups/{group_id}")
    def delete_group(req: ApiRequest):
        group = visible(req, req.path_params["group_id"], "os_compute_api:os-server-groups:delete")
        groups.delete(group.id)
