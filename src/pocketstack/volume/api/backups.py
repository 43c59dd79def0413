"""``/v3/{project_id}/backups``: create (full or incremental), list, show, restore, update
(3.9+), delete."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.volume import errors
from pocketstack.volume import models as m
from pocketstack.volume.api import schemas
from pocketstack.volume.api.common import (
    PREFIX,
    accepted,
    all_projects,
    authorize_on_volume,
    is_detail,
    links,
    own_project,
    page_links,
    paging,
    to_bool,
    with_count,
)
from pocketstack.volume.api.validation import validate
from pocketstack.volume.backups import BACKUP_ZONE, Backups
from pocketstack.volume.volumes import Volumes

SORT_KEYS = ("created_at", "updated_at", "id", "name", "size", "status")


def summary(req: ApiRequest, b: m.Backup) -> dict:
    return {"id": b.id, "name": b.name, "links": links(req, "backups", b.id)}


def detail(req: ApiRequest, b: m.Backup, has_dependents: bool) -> dict:
    item: dict[str, Any] = {"id": b.id, "name": b.name, "description": b.description, "status": b.status,
            "availability_zone": b.availability_zone or BACKUP_ZONE, "volume_id": b.volume_id, "size": b.size,
            "object_count": b.object_count, "container": b.container, "created_at": b.created_at,
            "updated_at": b.updated_at, "data_timestamp": b.data_timestamp or b.created_at,
            "fail_reason": b.fail_reason,
            "is_incremental": b.parent_id is not None, "has_dependent_backups": has_dependents,
            "snapshot_id": b.snapshot_id, "links": links(req, "backups", b.id)}
    if req.at_least(3, 18) and req.allowed("backup:backup_project_attribute"):
        item["os-backup-project-attr:project_id"] = b.project_id
        if req.at_least(3, 56):
            item["user_id"] = b.user_id
    if req.at_least(3, 43):
        item["metadata"] = {}
    return item


class BackupsApi:
    def __init__(self, backups: Backups, volumes: Volumes):
        self.backups = backups
        self.volumes = volumes

    def render(self, req: ApiRequest, rows: list[m.Backup]) -> list[dict]:
        parents = self.backups.has_children([b.id for b in rows])
        return [detail(req, b, b.id in parents) for b in rows]

    def load(self, req: ApiRequest) -> m.Backup:
        """The backup of the path as the caller sees it (404), then the route's rule on its
        project (403)."""
        backup = self.backups.get(req.caller, req.path_params["backup_id"])
        req.authorize(target={"project_id": backup.project_id})
        return backup

    @route.post(PREFIX + "/backups", policy="backup:create",
                body={"3.0": schemas.CREATE_BACKUP, "3.51": schemas.CREATE_BACKUP_351})
    def create(self, req: ApiRequest) -> Response:
        spec = req.data["backup"]
        authorize_on_volume(req, self.volumes, spec["volume_id"])
        backup = self.backups.create(req.caller, spec["volume_id"], spec.get("name"), spec.get("description"),
                                     to_bool(spec.get("incremental", False), "incremental"),
                                     to_bool(spec.get("force", False), "force"), spec.get("container"),
                                     snapshot_id=spec.get("snapshot_id"),
                                     availability_zone=spec.get("availability_zone") if req.at_least(3, 51) else None)
        return accepted({"backup": summary(req, backup)})

    @route.get(PREFIX + "/backups/{backup_id}/export_record", policy="backup:export-import")
    def export_record(self, req: ApiRequest) -> dict:
        return {"backup-record": self.backups.export_record(req.caller, self.load(req).id)}

    @route.post(PREFIX + "/backups/import_record", policy="backup:export-import", body=schemas.IMPORT_BACKUP,
                status=201)
    def import_record(self, req: ApiRequest) -> dict:
        req.authorize(target=own_project(req))
        record = req.data["backup-record"]
        backup = self.backups.import_record(req.caller, record["backup_service"], record["backup_url"])
        return {"backup": summary(req, backup)}

    @route.get(PREFIX + "/backups", policy="backup:get_all")
    @route.get(PREFIX + "/backups/detail", policy="backup:get_all")
    def index(self, req: ApiRequest) -> dict:
        detailed = is_detail(req)
        req.authorize(target=own_project(req))
        filters = {k: req.query[k] for k in ("name", "status", "volume_id") if k in req.query}
        page = paging(req, SORT_KEYS)
        rows = self.backups.list(req.caller, filters, page, all_projects(req))
        items = self.render(req, rows) if detailed else [summary(req, b) for b in rows]
        out = {"backups": items, **page_links(req, "backups", rows, page, "backups/detail" if detailed else "backups")}
        if with_count(req):
            out["count"] = self.backups.count(req.caller, filters, all_projects(req))
        return out

    @route.get(PREFIX + "/backups/{backup_id}", policy="backup:get")
    def show(self, req: ApiRequest) -> dict:
        return {"backup": self.render(req, [self.load(req)])[0]}

    @route.post(PREFIX + "/backups/{backup_id}/restore", policy="backup:restore", body=schemas.RESTORE_BACKUP,
                authorize_first=True)
    def restore(self, req: ApiRequest) -> Response:
        backup = self.load(req)
        spec = req.data["restore"] or {}
        volume = self.backups.restore(req.caller, backup.id, spec.get("volume_id"), spec.get("name"))
        return accepted({"restore": {"backup_id": backup.id, "volume_id": volume.id, "volume_name": volume.name}})

    @route.put(PREFIX + "/backups/{backup_id}", policy="backup:update", since="3.9", body=schemas.UPDATE_BACKUP,
               authorize_first=True)
    def update(self, req: ApiRequest) -> dict:
        backup = self.load(req)
        spec = req.data["backup"] or {}
        self.backups.update(req.caller, backup.id, {k: spec[k] for k in ("name", "description") if k in spec})
        return {"backup": summary(req, self.backups.get(req.caller, backup.id))}

    @route.post(PREFIX + "/backups/{backup_id}/action", policy="volume_extension:backup_admin_actions:reset_status")
    def action(self, req: ApiRequest) -> Response:
        """``os-reset_status`` (admin): Cinder checks the body first (400), then finds the
        backup (404) and enforces the rule (403)."""
        payload = req.json()
        name = next(iter(payload), "") if isinstance(payload, dict) else ""
        if name not in schemas.BACKUP_ACTIONS or len(payload) != 1:
            raise errors.NoSuchAction(action=name)
        validate(payload, schemas.BACKUP_ACTIONS[name])
        backup = self.load(req)
        self.backups.reset_status(req.caller, backup.id, payload[name]["status"].lower())
        return accepted()

    @route.delete(PREFIX + "/backups/{backup_id}", policy="backup:delete")
    def delete(self, req: ApiRequest) -> Response:
        backup = self.load(req)
        self.backups.delete(req.caller, backup.id)
        return accepted()
