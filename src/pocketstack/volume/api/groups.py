"""``/v3/{project_id}/groups`` (3.13+) and ``/group_snapshots`` (3.14+): generic volume
groups, created empty or from a source (3.14), updated (name, members), deleted with
their volumes, reset (3.20); their snapshots, reset (3.19).  Bodies are checked first (as
Cinder's schema decorators run), then the lookup (404) and the rule (403)."""

from __future__ import annotations

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.common.pagination import Paging
from pocketstack.volume import models as m
from pocketstack.volume.api import render, schemas
from pocketstack.volume.api.actions import parse_action
from pocketstack.volume.api.common import (
    PREFIX,
    accepted,
    all_projects,
    flag,
    is_detail,
    offset,
    own_project,
    page_links,
    paging,
    to_bool,
)
from pocketstack.volume.groups import Groups

SORT_KEYS = ("created_at", "updated_at", "id", "name", "status")
FILTERS = ("name", "status", "group_type_id", "availability_zone")
SNAPSHOT_FILTERS = ("name", "status", "group_id", "group_type_id")


def _stripped(value: str | None) -> str | None:
    return value.strip() if value else value


class GroupsApi:
    def __init__(self, groups: Groups):
        self.groups = groups

    def render_many(self, req: ApiRequest, rows: list[m.Group]) -> list[dict]:
        ids = [g.id for g in rows]
        types = self.groups.volume_type_ids(ids)
        volumes = self.groups.volume_ids(ids) if req.at_least(3, 25) and flag(req, "list_volume") else None
        return [render.group(req, g, types[g.id], volumes[g.id] if volumes is not None else None) for g in rows]

    def load(self, req: ApiRequest, rule: str | None = None) -> m.Group:
        group = self.groups.get(req.caller, req.path_params["group_id"])
        req.authorize(rule, {"project_id": group.project_id})
        return group

    @route.post(PREFIX + "/groups", policy="group:create", body=schemas.GROUP_CREATE, since="3.13", status=202)
    def create(self, req: ApiRequest) -> dict:
        req.authorize(target=own_project(req))
        spec = req.data["group"]
        group = self.groups.create(req.caller, _stripped(spec.get("name")), _stripped(spec.get("description")),
                                   spec["group_type"], spec["volume_types"], spec.get("availability_zone"))
        return {"group": {"id": group.id, "name": group.name}}

    @route.post(PREFIX + "/groups/action", policy="group:create", body=schemas.GROUP_FROM_SOURCE, since="3.14",
                status=202)
    def create_from_src(self, req: ApiRequest) -> dict:
        """``create-from-src``: a group with a copy of a group snapshot's or a group's volumes."""
        spec = req.data["create-from-src"]
        if spec.get("group_snapshot_id"):
            self.groups.get_snapshot(req.caller, spec["group_snapshot_id"])
        else:
            self.groups.get(req.caller, spec["source_group_id"])
        req.authorize(target=own_project(req))
        group = self.groups.create_from_src(req.caller, _stripped(spec.get("name")),
                                            _stripped(spec.get("description")), spec.get("group_snapshot_id"),
                                            spec.get("source_group_id"))
        return {"group": {"id": group.id, "name": group.name}}

    @route.get(PREFIX + "/groups", policy="group:get_all", since="3.13")
    @route.get(PREFIX + "/groups/detail", policy="group:get_all", since="3.13")
    def index(self, req: ApiRequest) -> dict:
        req.authorize(target=own_project(req))
        page = paging(req, SORT_KEYS)
        filters = {k: req.query[k] for k in FILTERS if k in req.query}
        rows = self.groups.list(req.caller, filters, page, all_projects(req), offset(req))
        detail = is_detail(req)
        items = self.render_many(req, rows) if detail else [{"id": g.id, "name": g.name} for g in rows]
        return {"groups": items, **page_links(req, "group", rows, page, "groups/detail" if detail else "groups")}

    @route.get(PREFIX + "/groups/{group_id}", policy="group:get", since="3.13")
    def show(self, req: ApiRequest) -> dict:
        return {"group": self.render_many(req, [self.load(req)])[0]}

    @route.put(PREFIX + "/groups/{group_id}", policy="group:update", body=schemas.GROUP_UPDATE, since="3.13")
    def update(self, req: ApiRequest) -> Response:
        group = self.load(req)
        spec = req.data["group"]
        self.groups.update(req.caller, group.id, _stripped(spec.get("name")), _stripped(spec.get("description")),
                           spec.get("add_volumes"), spec.get("remove_volumes"))
        return accepted()

    @route.post(PREFIX + "/groups/{group_id}/action", since="3.13")
    def action(self, req: ApiRequest) -> Response:
        """``delete`` (members) and ``reset_status`` (admin, 3.20+)."""
        actions = schemas.GROUP_ACTIONS if req.at_least(3, 20) else {"delete": schemas.GROUP_ACTIONS["delete"]}
        name, args = parse_action(req.json(), actions)
        if name == "delete":
            group = self.load(req, "group:delete")
            self.groups.delete(req.caller, group.id, to_bool(args.get("delete-volumes", False), "delete-volumes"))
        else:
            group = self.load(req, "group:reset_status")
            self.groups.reset_status(req.caller, group.id, args["status"].lower())
        return accepted()


class GroupSnapshotsApi:
    def __init__(self, groups: Groups):
        self.groups = groups

    def load(self, req: ApiRequest, rule: str | None = None) -> m.GroupSnapshot:
        group_snapshot = self.groups.get_snapshot(req.caller, req.path_params["group_snapshot_id"])
        req.authorize(rule, {"project_id": group_snapshot.project_id})
        return group_snapshot

    @route.post(PREFIX + "/group_snapshots", policy="group:create_group_snapshot", body=schemas.GROUP_SNAPSHOT_CREATE,
                since="3.14", status=202)
    def create(self, req: ApiRequest) -> dict:
        spec = req.data["group_snapshot"]
        group = self.groups.get(req.caller, spec["group_id"])
        req.authorize(target={"project_id": group.project_id})
        created = self.groups.create_snapshot(req.caller, group.id, spec.get("name"), spec.get("description"))
        return {"group_snapshot": {"id": created.id, "name": created.name, "group_type_id": created.group_type_id}}

    @route.get(PREFIX + "/group_snapshots", policy="group:get_all_group_snapshots", since="3.14")
    @route.get(PREFIX + "/group_snapshots/detail", policy="group:get_all_group_snapshots", since="3.14")
    def index(self, req: ApiRequest) -> dict:
        """Paging, sorting and filters from 3.29, as Cinder."""
        req.authorize(target=own_project(req))
        page, skip, filters = Paging(sort=[("created_at", "desc"), ("id", "desc")]), 0, {}
        if req.at_least(3, 29):
            page, skip = paging(req, SORT_KEYS), offset(req)
            filters = {k: req.query[k] for k in SNAPSHOT_FILTERS if k in req.query}
        rows = self.groups.list_snapshots(req.caller, filters, page, all_projects(req), skip)
        detail = is_detail(req)
        items = [render.group_snapshot(req, x) if detail else {"id": x.id, "name": x.name} for x in rows]
        base = "group_snapshots/detail" if detail else "group_snapshots"
        return {"group_snapshots": items, **page_links(req, "group_snapshot", rows, page, base)}

    @route.get(PREFIX + "/group_snapshots/{group_snapshot_id}", policy="group:get_group_snapshot", since="3.14")
    def show(self, req: ApiRequest) -> dict:
        return {"group_snapshot": render.group_snapshot(req, self.load(req))}

    @route.delete(PREFIX + "/group_snapshots/{group_snapshot_id}", policy="group:delete_group_snapshot",
                  since="3.14")
    def delete(self, req: ApiRequest) -> Response:
        self.groups.delete_snapshot(req.caller, self.load(req).id)
        return accepted()

    @route.post(PREFIX + "/group_snapshots/{group_snapshot_id}/action", since="3.19")
    def action(self, req: ApiRequest) -> Response:
        """``reset_status`` (admin)."""
        _, args = parse_action(req.json(), schemas.GROUP_SNAPSHOT_ACTIONS)
        group_snapshot = self.load(req, "group:reset_group_snapshot_status")
        self.groups.reset_snapshot_status(req.caller, group_snapshot.id, args["status"].lower())
        return accepted()
