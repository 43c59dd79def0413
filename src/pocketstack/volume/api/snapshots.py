"""``/v3/{project_id}/snapshots``: create, list, show, update, delete and actions; the
snapshot's metadata is :mod:`.metadata`'s."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.volume import errors
from pocketstack.volume import models as m
from pocketstack.volume.api import render, schemas
from pocketstack.volume.api.common import (
    PREFIX,
    accepted,
    all_projects,
    consumes_quota,
    is_detail,
    offset,
    own_project,
    page_links,
    paging,
    to_bool,
    with_count,
)
from pocketstack.volume.api.validation import validate
from pocketstack.volume.api.volumes import v1_names
from pocketstack.volume.manage import Manage
from pocketstack.volume.snapshots import Snapshots
from pocketstack.volume.volumes import Volumes

SORT_KEYS = ("created_at", "updated_at", "id", "name", "size", "status")


def parse_snapshot_action(payload: Any) -> tuple[str, Any]:
    """``(name, arguments)`` of a snapshot action body; Cinder answers anything but one
    known action with "There is no such action"."""
    name = next(iter(payload), "") if isinstance(payload, dict) else ""
    if name not in schemas.SNAPSHOT_ACTIONS or len(payload) != 1:
        raise errors.NoSuchAction(action=name)
    validate(payload, schemas.SNAPSHOT_ACTIONS[name])
    return name, payload[name]


class SnapshotsApi:
    def __init__(self, snapshots: Snapshots, volumes: Volumes, manage: Manage):
        self.snapshots = snapshots
        self.volumes = volumes
        self.manage = manage

    def render_many(self, req: ApiRequest, rows: list[m.Snapshot], extended: bool = False) -> list[dict]:
        metadata = self.snapshots.metadata([s.id for s in rows])
        return [render.snapshot(req, s, metadata[s.id], extended) for s in rows]

    def load(self, req: ApiRequest, rule: str | None = None) -> m.Snapshot:
        """The snapshot of the path as the caller sees it (404), then ``rule`` (default:
        the route's) enforced on its project (403)."""
        snapshot = self.snapshots.get(req.caller, req.path_params["snapshot_id"])
        req.authorize(rule, {"project_id": snapshot.project_id})
        return snapshot

    @route.post(PREFIX + "/snapshots", policy="volume:create_snapshot", body=schemas.CREATE_SNAPSHOT)
    def create(self, req: ApiRequest) -> Response:
        """From 3.66 an in-use volume needs no ``force``, and ``force: false`` is refused
        (``force: true`` is let through, as Cinder does for older clients)."""
        spec = v1_names(req.data["snapshot"])
        force = to_bool(spec.get("force", False), "force")
        if spec["volume_id"] is None:  # Cinder looks the volume up, and finds none
            raise errors.VolumeNotFound(volume_id=None)
        volume = self.volumes.get(req.caller, spec["volume_id"])
        if req.at_least(3, 66):
            if spec.get("force") is not None and not force:
                raise errors.SnapshotForceFlag()
            force = True
        req.authorize(target={"project_id": volume.project_id})
        snapshot = self.snapshots.create(req.caller, spec["volume_id"], spec.get("name"), spec.get("description"),
                                         force, spec.get("metadata") or {})
        return accepted({"snapshot": self.render_many(req, [snapshot])[0]})

    @route.get(PREFIX + "/snapshots", policy="volume:get_snapshot")
    @route.get(PREFIX + "/snapshots/detail", policy="volume:get_snapshot")
    def index(self, req: ApiRequest) -> dict:
        detail = is_detail(req)
        req.authorize(target=own_project(req))
        filters: dict[str, Any] = {k: req.query[k] for k in ("name", "status", "volume_id") if k in req.query}
        if (consuming := consumes_quota(req)) is not None:
            filters["consumes_quota"] = consuming
        page = paging(req, SORT_KEYS)
        rows = self.snapshots.list(req.caller, filters, page, all_projects(req), offset(req))
        # Cinder's summary and detail snapshot views carry the same fields.
        out = {"snapshots": self.render_many(req, rows, extended=detail),
               **page_links(req, "snapshots", rows, page, "snapshots/detail" if detail else "snapshots")}
        if with_count(req):
            out["count"] = self.snapshots.count(req.caller, filters, all_projects(req))
        return out

    @route.get(PREFIX + "/snapshots/{snapshot_id}", policy="volume:get_snapshot")
    def show(self, req: ApiRequest) -> dict:
        return {"snapshot": self.render_many(req, [self.load(req)], extended=True)[0]}

    @route.put(PREFIX + "/snapshots/{snapshot_id}", policy="volume:update_snapshot", body=schemas.UPDATE_SNAPSHOT,
               authorize_first=True)
    def update(self, req: ApiRequest) -> dict:
        snapshot = self.load(req)
        values = v1_names(req.data["snapshot"])
        return {"snapshot": self.render_many(req, [self.snapshots.update(req.caller, snapshot.id, values)])[0]}

    @route.delete(PREFIX + "/snapshots/{snapshot_id}", policy="volume:delete_snapshot")
    def delete(self, req: ApiRequest) -> Response:
        snapshot = self.load(req)
        self.snapshots.delete(req.caller, snapshot.id)
        return accepted()

    @route.post(PREFIX + "/snapshots/{snapshot_id}/action")
    def action(self, req: ApiRequest) -> Response:
        """``os-force_delete``, ``os-reset_status`` and ``os-unmanage``, each with its own admin rule, and
        ``os-update_snapshot_status`` (project members)."""
        name, args = parse_snapshot_action(req.json())
        if name == "os-force_delete":
            snapshot = self.load(req, "volume_extension:snapshot_admin_actions:force_delete")
            self.snapshots.delete(req.caller, snapshot.id, force=True)
            return accepted()
        if name == "os-unmanage":
            snapshot = self.load(req, "snapshot_extension:snapshot_unmanage")
            self.manage.unmanage_snapshot(req.caller, snapshot.id)
            return accepted()
        if name == "os-update_snapshot_status":
            snapshot = self.load(req, "snapshot_extension:snapshot_actions:update_snapshot_status")
            self.snapshots.update_status(req.caller, snapshot.id, args["status"], args.get("progress"))
            return accepted()
        snapshot = self.load(req, "volume_extension:snapshot_admin_actions:reset_status")
        self.snapshots.reset_status(req.caller, snapshot.id, args["status"].lower())
        return accepted()
