"""``/v3/{project_id}/volumes``: create, list (summary and detail), show, update, delete,
and the volume's metadata."""

from __future__ import annotations

import ast
import json

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.errors import BadRequest, NotFound
from pocketstack.volume.api import render
from pocketstack.volume.api.common import (
    PREFIX,
    accepted,
    all_projects,
    at_least,
    body,
    page_links,
    paging,
    to_bool,
)
from pocketstack.volume.api.schemas import (
    DESCRIPTION,
    METADATA,
    METADATA_ITEM,
    METADATA_OR_NULL,
    NAME,
    OPTIONAL_BOOLEAN,
    UUID_OR_NULL,
    VOLUME_SIZE_OR_NULL,
)

SORT_KEYS = ("created_at", "updated_at", "id", "name", "size", "status", "availability_zone", "bootable")
CREATE = {"type": "object", "properties": {
    "size": VOLUME_SIZE_OR_NULL, "name": NAME, "description": DESCRIPTION, "display_name": NAME,
    "display_description": DESCRIPTION, "snapshot_id": UUID_OR_NULL, "source_volid": UUID_OR_NULL,
    "imageRef": {"type": ["string", "null"], "minLength": 0, "maxLength": 255},
    "image_id": {"type": ["string", "null"], "minLength": 0, "maxLength": 255},
    "volume_type": {"type": ["string", "null"], "minLength": 0, "maxLength": 255},
    "availability_zone": {"type": ["string", "null"], "minLength": 1, "maxLength": 255},
    "metadata": METADATA_OR_NULL, "multiattach": OPTIONAL_BOOLEAN}}
UPDATE = {"type": "object", "properties": {
    "name": NAME, "description": DESCRIPTION, "display_name": NAME, "display_description": DESCRIPTION,
    "metadata": METADATA}, "additionalProperties": False}


def v1_names(spec: dict) -> dict:
    """Cinder still takes the v1 names ``display_name``/``display_description``."""
    for old, new in (("display_name", "name"), ("display_description", "description")):
        if old in spec:
            spec.setdefault(new, spec.pop(old))
    return spec


def _literal(text: str):
    """A ``metadata`` filter: JSON, or the Python literal clients send (Tempest urlencodes
    a dict, Cinder reads it with ``ast.literal_eval``)."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise BadRequest("Invalid input received: metadata filter must be a JSON object.") from None


def register(router, service) -> None:
    volumes = service.volumes

    def render_many(req: ApiRequest, rows, extended: bool = True) -> list[dict]:
        ids = [v.id for v in rows]
        metadata, attachments = volumes.metadata(ids), volumes.attachments(ids)
        names = service.types.names({v.volume_type_id for v in rows if v.volume_type_id})
        images = volumes.image_metadata(ids) if extended else {}
        return [render.volume(req, v, metadata[v.id], attachments[v.id], names, extended, images.get(v.id))
                for v in rows]

    def show_one(req: ApiRequest, volume_id: str, extended: bool = True) -> dict:
        return render_many(req, [volumes.get(req.context, volume_id)], extended)[0]

    def load(req: ApiRequest, rule: str):
        volume = volumes.get(req.context, req.path_params["volume_id"])
        req.authorize(rule, {"project_id": volume.project_id})
        return volume

    @router.post(PREFIX + "/volumes")
    def create(req: ApiRequest):
        spec = v1_names(body(req, CREATE, "volume"))
        if spec.get("size") is not None:
            spec["size"] = int(spec["size"])
        spec["imageRef"] = spec.get("imageRef") or spec.pop("image_id", None)
        if spec.get("multiattach") is not None:
            spec["multiattach"] = to_bool(spec["multiattach"], "multiattach")
        # Cinder looks up what the volume is made from before its create policy: another
        # project's snapshot, volume or private type is a 404 to that project's reader too.
        named = volumes.references(req.context, spec)
        req.authorize("volume:create", {"project_id": req.context.project_id})
        volume = volumes.create(req.context, spec, named=named)
        return accepted({"volume": show_one(req, volume.id, extended=False)})

    def listing(req: ApiRequest, detail: bool):
        req.authorize("volume:get_all", {"project_id": req.context.project_id})
        filters = {k: req.query[k] for k in ("name", "status", "availability_zone", "volume_type", "project_id")
                   if k in req.query}
        for key in ("bootable", "multiattach"):
            if key in req.query:
                filters[key] = to_bool(req.query[key], key)
        if "metadata" in req.query:
            filters["metadata"] = _literal(req.query["metadata"])
            if not isinstance(filters["metadata"], dict):
                raise BadRequest("Invalid input received: metadata filter must be a JSON object.")
        page = paging(req, SORT_KEYS)
        rows = volumes.list(req.context, filters, page, all_projects(req))
        items = render_many(req, rows) if detail else [render.volume_summary(req, v) for v in rows]
        return {"volumes": items, **page_links(req, "volumes", rows, page, "volumes/detail" if detail else "volumes")}

    @router.get(PREFIX + "/volumes")
    def list_volumes(req: ApiRequest):
        return listing(req, detail=False)

    @router.get(PREFIX + "/volumes/detail")
    def list_detail(req: ApiRequest):
        return listing(req, detail=True)

    @router.get(PREFIX + "/volumes/summary")
    def summary(req: ApiRequest):
        if not at_least(req, 3, 12):
            raise NotFound("Volume summary could not be found.")
        req.authorize("volume:get_volume_summary", {"project_id": req.context.project_id})
        count, size, metadata = volumes.summary(req.context, all_projects(req))
        out = {"total_count": count, "total_size": size}
        if at_least(req, 3, 36):
            out["metadata"] = metadata
        return {"volume-summary": out}

    @router.get(PREFIX + "/volumes/{volume_id}")
    def show(req: ApiRequest):
        volume = load(req, "volume:get")
        return {"volume": show_one(req, volume.id)}

    @router.put(PREFIX + "/volumes/{volume_id}")
    def update(req: ApiRequest):
        volume = load(req, "volume:update")
        volumes.update(req.context, volume.id, v1_names(body(req, UPDATE, "volume")))
        return {"volume": show_one(req, volume.id, extended=False)}

    @router.delete(PREFIX + "/volumes/{volume_id}")
    def delete(req: ApiRequest):
        volume = load(req, "volume:delete")
        volumes.delete(req.context, volume.id)
        return accepted()

    @router.get(PREFIX + "/volumes/{volume_id}/metadata")
    def get_metadata(req: ApiRequest):
        volume = load(req, "volume:get_volume_metadata")
        return {"metadata": volumes.metadata([volume.id])[volume.id]}

    @router.post(PREFIX + "/volumes/{volume_id}/metadata")
    def add_metadata(req: ApiRequest):
        volume = load(req, "volume:update_volume_metadata")
        return {"metadata": volumes.set_metadata(req.context, volume.id, body(req, METADATA, "metadata"), False)}

    @router.put(PREFIX + "/volumes/{volume_id}/metadata")
    def replace_metadata(req: ApiRequest):
        volume = load(req, "volume:update_volume_metadata")
        return {"metadata": volumes.set_metadata(req.context, volume.id, body(req, METADATA, "metadata"), True)}

    @router.get(PREFIX + "/volumes/{volume_id}/metadata/{key}")
    def get_metadata_item(req: ApiRequest):
        volume = load(req, "volume:get_volume_metadata")
        key = req.path_params["key"]
        metadata = volumes.metadata([volume.id])[volume.id]
        if key not in metadata:
            raise NotFound(f"Metadata key {key} for volume {volume.id} could not be found.")
        return {"meta": {key: metadata[key]}}

    @router.put(PREFIX + "/volumes/{volume_id}/metadata/{key}")
    def set_metadata_item(req: ApiRequest):
        volume = load(req, "volume:update_volume_metadata")
        key = req.path_params["key"]
        meta = body(req, METADATA_ITEM, "meta")
        if key not in meta:
            raise BadRequest("Request body and URI mismatch")
        volumes.set_metadata(req.context, volume.id, meta, False)
        return {"meta": meta}

    @router.delete(PREFIX + "/volumes/{volume_id}/metadata/{key}")
    def delete_metadata_item(req: ApiRequest):
        volume = load(req, "volume:update_volume_metadata")
        volumes.delete_metadata(req.context, volume.id, req.path_params["key"])
        return Response(status_code=200)  # Cinder answers 200 with an empty body here
