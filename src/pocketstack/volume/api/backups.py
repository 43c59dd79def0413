"""``/v3/{project_id}/backups``: create (full or incremental), list, show, restore, delete."""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.errors import NotFound
from pocketstack.volume.api.common import (
    PREFIX,
    accepted,
    all_projects,
    at_least,
    authorize_on_volume,
    body,
    links,
    page_links,
    paging,
    to_bool,
)
from pocketstack.volume.api.schemas import (
    BOOLEAN,
    DESCRIPTION,
    NAME,
    UUID,
    UUID_OR_NULL,
)

CREATE = {"type": "object", "properties": {
    "volume_id": UUID, "name": NAME, "description": DESCRIPTION,
    "container": {"type": ["string", "null"], "minLength": 0, "maxLength": 255, "pattern": "^[^/]*$"},
    "incremental": BOOLEAN, "force": BOOLEAN, "snapshot_id": UUID_OR_NULL},
    "required": ["volume_id"], "additionalProperties": False}
UPDATE = {"type": ["object", "null"], "additionalProperties": False, "properties": {
    "name": NAME, "description": DESCRIPTION}}
RESTORE = {"type": ["object", "null"], "additionalProperties": False, "properties": {
    "volume_id": UUID_OR_NULL, "name": NAME}}


def register(router, service) -> None:
    backups = service.backups

    def render(req, rows) -> list[dict]:
        parents = backups.has_children([b.id for b in rows])
        out = []
        for b in rows:
            item = {"id": b.id, "name": b.name, "description": b.description, "status": b.status,
                    "availability_zone": "nova", "volume_id": b.volume_id, "size": b.size,
                    "object_count": b.object_count, "container": b.container, "created_at": b.created_at,
                    "updated_at": b.updated_at, "data_timestamp": b.created_at, "fail_reason": b.fail_reason,
                    "is_incremental": b.parent_id is not None, "has_dependent_backups": b.id in parents,
                    "snapshot_id": None, "links": links(req, "backups", b.id)}
            if at_least(req, 3, 18) and req.context.is_admin:
                item["os-backup-project-attr:project_id"] = b.project_id
            if at_least(req, 3, 43):
                item["metadata"] = {}
            out.append(item)
        return out

    def load(req, rule):
        backup = backups.get(req.context, req.path_params["backup_id"])
        req.authorize(rule, {"project_id": backup.project_id})
        return backup

    @router.post(PREFIX + "/backups")
    def create(req: ApiRequest):
        spec = body(req, CREATE, "backup")
        authorize_on_volume(req, "backup:create", service.volumes, spec["volume_id"])
        backup = backups.create(req.context, spec["volume_id"], spec.get("name"), spec.get("description"),
                                to_bool(spec.get("incremental", False), "incremental"),
                                to_bool(spec.get("force", False), "force"), spec.get("container"))
        return accepted({"backup": {"id": backup.id, "name": backup.name, "links": links(req, "backups", backup.id)}})

    def listing(req, detail):
        req.authorize("backup:get_all", {"project_id": req.context.project_id})
        filters = {k: req.query[k] for k in ("name", "status", "volume_id") if k in req.query}
        page = paging(req, ("created_at", "updated_at", "id", "name", "size", "status"))
        rows = backups.list(req.context, filters, page, all_projects(req))
        items = render(req, rows) if detail else [
            {"id": b.id, "name": b.name, "links": links(req, "backups", b.id)} for b in rows]
        return {"backups": items, **page_links(req, "backups", rows, page, "backups/detail" if detail else "backups")}

    @router.get(PREFIX + "/backups")
    def list_backups(req: ApiRequest):
        return listing(req, False)

    @router.get(PREFIX + "/backups/detail")
    def list_detail(req: ApiRequest):
        return listing(req, True)

    @router.get(PREFIX + "/backups/{backup_id}")
    def show(req: ApiRequest):
        return {"backup": render(req, [load(req, "backup:get")])[0]}

    @router.post(PREFIX + "/backups/{backup_id}/restore")
    def restore(req: ApiRequest):
        backup = load(req, "backup:restore")
        spec = body(req, RESTORE, "restore") or {}
        volume = backups.restore(req.context, backup.id, spec.get("volume_id"), spec.get("name"))
        return accepted({"restore": {"backup_id": backup.id, "volume_id": volume.id, "volume_name": volume.name}})

    @router.put(PREFIX + "/backups/{backup_id}")
    def update(req: ApiRequest):
        if not at_least(req, 3, 9):
            raise NotFound("The resource could not be found.")
        backup = load(req, "backup:update")
        spec = body(req, UPDATE, "backup") or {}
        backups.update(req.context, backup.id, {k: spec[k] for k in ("name", "description") if k in spec})
        updated = backups.get(req.context, backup.id)
        return {"backup": {"id": updated.id, "name": updated.name, "links": links(req, "backups", updated.id)}}

    @router.delete(PREFIX + "/backups/{backup_id}")
    def delete(req: ApiRequest):
        backup = load(req, "backup:delete")
        backups.delete(req.context, backup.id)
        return accepted()
