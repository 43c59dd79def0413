"""``/os-server-groups``: 2.64 speaks ``policy`` + ``rules``, earlier versions ``policies``."""

from __future__ import annotations

from collections.abc import Mapping

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.common.validation import parse_bool, validate
from pocketstack.compute import errors
from pocketstack.compute.api.common import caller_id, caller_project, is_admin, limited
from pocketstack.compute.api.schemas import queries
from pocketstack.compute.api.schemas import server_groups as schemas
from pocketstack.compute.server_groups import ServerGroups


def create_request(body: object, at_2_64: bool) -> tuple[str, str, dict]:
    """A create body as (name, policy, rules): ``policies`` (one of them) before 2.64,
    ``policy`` and ``rules`` from it.  Validated here, after the policy check, as Nova."""
    if at_2_64:
        data = validate(body, schemas.CREATE_V264)["server_group"]
        policy, rules = data["policy"], dict(data.get("rules") or {})
    else:
        data = validate(body, schemas.CREATE)["server_group"]
        policy, rules = data["policies"][0], {}
    if "max_server_per_host" in rules:
        rules["max_server_per_host"] = int(rules["max_server_per_host"])
        if rules["max_server_per_host"] < 1:
            raise errors.MaxServerPerHostTooLow()
    return data["name"], policy, rules


def all_projects(query: Mapping[str, str]) -> bool:
    """``?all_projects`` (empty, or a true boolean) asks for every project's groups."""
    return "all_projects" in query and (query["all_projects"] == "" or parse_bool(query["all_projects"],
                                                                                  "all_projects"))


def render(req: ApiRequest, group, members: list[str]) -> dict:
    out = {"id": group.id, "name": group.name, "members": members}
    if req.at_least(2, 64):
        out["policy"] = group.policy
        out["rules"] = group.rules
    else:
        out["policies"] = [group.policy]
        out["metadata"] = {}
    if req.at_least(2, 13):
        out["project_id"] = group.project_id
        out["user_id"] = group.user_id
    return out


class ServerGroupsApi:
    def __init__(self, groups: ServerGroups):
        self.groups = groups

    def visible(self, req: ApiRequest, group_id: str):
        """The group, if the caller's project owns it (404 otherwise, admins see all) and
        the route's rule allows."""
        group = self.groups.get(group_id)
        if group.project_id != req.caller.project_id and not is_admin(req):
            raise errors.InstanceGroupNotFound(group_id=group_id)
        req.authorize(target={"project_id": group.project_id})
        return group

    @route.get("/v2.1/os-server-groups", policy="os_compute_api:os-server-groups:index",
               query=queries.from_2_75(queries.SERVER_GROUPS))
    def index(self, req: ApiRequest) -> dict:
        req.authorize(target={"project_id": req.caller.project_id})
        project_id = req.caller.project_id
        if all_projects(req.query):
            req.authorize("os_compute_api:os-server-groups:index:all_projects")
            project_id = None
        rows = self.groups.list(project_id)
        rows = limited(req, rows)
        members = self.groups.members([g.id for g in rows])
        return {"server_groups": [render(req, g, members[g.id]) for g in rows]}

    # Authorized before the body is validated (a 403 before a 400): the schema by
    # microversion is chosen in :func:`create_request`, not declared.
    @route.post("/v2.1/os-server-groups", policy="os_compute_api:os-server-groups:create")
    def create(self, req: ApiRequest) -> dict:
        req.authorize(target={"project_id": req.caller.project_id})
        name, policy, rules = create_request(req.json(), req.at_least(2, 64))
        group = self.groups.create(caller_project(req), caller_id(req), name, policy, rules)
        return {"server_group": render(req, group, [])}

    @route.get("/v2.1/os-server-groups/{group_id}", policy="os_compute_api:os-server-groups:show")
    def show(self, req: ApiRequest) -> dict:
        group = self.visible(req, req.path_params["group_id"])
        return {"server_group": render(req, group, self.groups.members([group.id])[group.id])}

    @route.delete("/v2.1/os-server-groups/{group_id}", policy="os_compute_api:os-server-groups:delete")
    def delete(self, req: ApiRequest) -> None:
        group = self.visible(req, req.path_params["group_id"])
        self.groups.delete(group.id)
