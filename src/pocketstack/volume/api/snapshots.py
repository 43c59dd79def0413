"""``/v3/{project_id}/snapshots``: create, list, show, update, delete, metadata, actions."""

from __future__ import annotations

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.errors import BadRequest, NotFound
from pocketstack.volume.api import render
from pocketstack.volume.api.common import (
    PREFIX,
    accepted,
    all_projects,
    authorize_on_volume,
    body,
    offset,
    page_links,
    paging,
    to_bool,
)
from pocketstack.volume.api.schemas import (
    BOOLEAN,
    DESCRIPTION,
    METADATA,
    METADATA_ITEM,
    METADATA_OR_NULL,
    NAME,
    SNAPSHOT_ACTIONS,
    UUID_OR_NULL,
)
from pocketstack.volume.api.validation import validate
from pocketstack.volume.api.volumes import v1_names

CREATE = {"type": "object", "properties": {
    "name": NAME, "display_name": NAME, "description": DESCRIPTION, "volume_id": UUID_OR_NULL, "force": BOOLEAN,
    "metadata": METADATA_OR_NULL}, "required": ["volume_id"], "additionalProperties": False}
UPDATE = {"type": "object", "properties": {
    "name": NAME, "description": DESCRIPTION, "display_name": NAME, "display_description": DESCRIPTION},
    "additionalProperties": False, "anyOf": [{"required": [key]} for key in (
        "name", "description", "display_name", "display_description")]}


def register(router, service) -> None:
    snapshots = service.snapshots

    def render_many(req, rows, extended: bool = False):
        metadata = snapshots.metadata([s.id for s in rows])
        return [render.snapshot(req, s, metadata[s.id], extended) for s in rows]

    def load(req, rule):
        snapshot = snapshots.get(req.context, req.path_params["snapshot_id"])
        req.authorize(rule, {"project_id": snapshot.project_id})
        return snapshot

    @router.post(PREFIX + "/snapshots")
    def create(req: ApiRequest):
        spec = v1_names(body(req, CREATE, "snapshot"))
        force = to_bool(spec.get("force", False), "force")
        if spec["volume_id"] is None:  # Cinder looks the volume up, and finds none
            raise NotFound("Volume None could not be found.")
        authorize_on_volume(req, "volume:create_snapshot", service.volumes, spec["volume_id"])
        snapshot = snapshots.create(req.context, spec["volume_id"], spec.get("name"), spec.get("description"),
                                    force, spec.get("metadata") or {})
        return accepted({"snapshot": render_many(req, [snapshot])[0]})

    def listing(req, detail):
        req.authorize("volume:get_snapshot", {"project_id": req.context.project_id})
        filters = {k: req.query[k] for k in ("name", "status", "volume_id") if k in req.query}
        page = paging(req, ("created_at", "updated_at", "id", "name", "size", "status"))
        rows = snapshots.list(req.context, filters, page, all_projects(req), offset(req))
        # Cinder's summary and detail snapshot views carry the same fields.
        return {"snapshots": render_many(req, rows, extended=detail), **page_links(req, "snapshots", rows, page,
                                                  "snapshots/detail" if detail else "snapshots")}

    @router.get(PREFIX + "/snapshots")
    def list_snapshots(req: ApiRequest):
        return listing(req, False)

    @router.get(PREFIX + "/snapshots/detail")
    def list_detail(req: ApiRequest):
        return listing(req, True)

    @router.get(PREFIX + "/snapshots/{snapshot_id}")
    def show(req: ApiRequest):
        return {"snapshot": render_many(req, [load(req, "volume:get_snapshot")], extended=True)[0]}

    @router.put(PREFIX + "/snapshots/{snapshot_id}")
    def update(req: ApiRequest):
        snapshot = load(req, "volume:update_snapshot")
        values = v1_names(body(req, UPDATE, "snapshot"))
        return {"snapshot": render_many(req, [snapshots.update(req.context, snapshot.id, values)])[0]}

    @router.delete(PREFIX + "/snapshots/{snapshot_id}")
    def delete(req: ApiRequest):
        snapshot = load(req, "volume:delete_snapshot")
        snapshots.delete(req.context, snapshot.id)
        return accepted()

    @router.get(PREFIX + "/snapshots/{snapshot_id}/metadata")
    def get_metadata(req: ApiRequest):
        snapshot = load(req, "volume:get_snapshot")
        return {"metadata": snapshots.metadata([snapshot.id])[snapshot.id]}

    @router.post(PREFIX + "/snapshots/{snapshot_id}/metadata")
    def add_metadata(req: ApiRequest):
        snapshot = load(req, "volume:update_snapshot")
        return {"metadata": snapshots.set_metadata(req.context, snapshot.id, body(req, METADATA, "metadata"), False)}

    @router.put(PREFIX + "/snapshots/{snapshot_id}/metadata")
    def replace_metadata(req: ApiRequest):
        snapshot = load(req, "volume:update_snapshot")
        return {"metadata": snapshots.set_metadata(req.context, snapshot.id, body(req, METADATA, "metadata"), True)}

    @router.get(PREFIX + "/snapshots/{snapshot_id}/metadata/{key}")
    def get_metadata_item(req: ApiRequest):
        snapshot = load(req, "volume:get_snapshot")
        items = snapshots.metadata([snapshot.id])[snapshot.id]
        if req.path_params["key"] not in items:
            raise NotFound("Metadata item was not found")
        return {"meta": {req.path_params["key"]: items[req.path_params["key"]]}}

    @router.put(PREFIX + "/snapshots/{snapshot_id}/metadata/{key}")
    def set_metadata_item(req: ApiRequest):
        snapshot = load(req, "volume:update_snapshot")
        meta = body(req, METADATA_ITEM, "meta")
        if req.path_params["key"] not in meta:
            raise BadRequest("Request body and URI mismatch")
        snapshots.set_metadata(req.context, snapshot.id, meta, False)
        return {"meta": meta}

    @router.delete(PREFIX + "/snapshots/{snapshot_id}/metadata/{key}")
    def delete_metadata(req: ApiRequest):
        snapshot = load(req, "volume:update_snapshot")
        snapshots.delete_metadata(req.context, snapshot.id, req.path_params["key"])
        return Response(status_code=200)

    @router.post(PREFIX + "/snapshots/{snapshot_id}/action")
    def action(req: ApiRequest):
        payload = req.json()
        name = next(iter(payload), "") if isinstance(payload, dict) else ""
        if name not in SNAPSHOT_ACTIONS or len(payload) != 1:
            raise BadRequest(f"There is no such action: {name}")
        validate(payload, SNAPSHOT_ACTIONS[name])
        if name == "os-force_delete":
            snapshot = load(req, "volume_extension:snapshot_admin_actions:force_delete")
            snapshots.delete(req.context, snapshot.id, force=True)
            return accepted()
        snapshot = load(req, "volume_extension:snapshot_admin_actions:reset_status")
        snapshots.reset_status(req.context, snapshot.id, payload[name]["status"].lower())
        return accepted()
