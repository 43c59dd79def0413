"""``/images``: Nova's proxy of the Image service (deprecated; gone from microversion 2.36).

Images are listed, shown and deleted through the image service's manager with the
caller's own credentials, so Glance's visibility rules apply; an image's Nova
``metadata`` is its free-form Glance properties.  Status and progress follow Nova's
mapping of Glance states.
"""

from __future__ import annotations

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import Router
from pocketstack.common.api.validation import validate
from pocketstack.common.errors import BadRequest, NotFound
from pocketstack.compute.api.common import at_least, int_query, links

# Glance status -> (Nova status, progress)
_STATUS = {"queued": ("SAVING", 25), "saving": ("SAVING", 50), "uploading": ("SAVING", 50),
           "importing": ("SAVING", 50), "active": ("ACTIVE", 100), "killed": ("ERROR", 0),
           "deleted": ("DELETED", 0), "pending_delete": ("DELETED", 0)}
_NOVA_TO_GLANCE = {"ACTIVE": "active", "SAVING": "in:queued,saving", "ERROR": "killed",
                   "DELETED": "in:deleted,pending_delete"}
_VALUE = {"type": "string", "maxLength": 255}
METADATA = {"type": "object", "required": ["metadata"], "properties": {"metadata": {
    "type": "object", "propertyNames": {"type": "string", "minLength": 1, "maxLength": 255},
    "additionalProperties": _VALUE}}}
META_ITEM = {"type": "object", "required": ["meta"], "properties": {"meta": {
    "type": "object", "minProperties": 1, "maxProperties": 1, "additionalProperties": _VALUE}}}


def _time(value) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def render(req: ApiRequest, image, detail: bool = True) -> dict:
    out = {"id": image.id, "name": image.name, "links": links(req, "images", image.id)}
    if not detail:
        return out
    status, progress = _STATUS.get(image.status, ("UNKNOWN", 0))
    out.update({"status": status, "progress": progress, "minDisk": image.min_disk or 0,
                "minRam": image.min_ram or 0, "created": _time(image.created_at),
                "updated": _time(image.updated_at), "metadata": dict(image.properties),
                "OS-EXT-IMG-SIZE:size": image.size, "OS-DCF:diskConfig": "MANUAL"})
    server_id = image.properties.get("instance_uuid")
    if server_id:
        out["server"] = {"id": server_id, "links": links(req, "servers", server_id)}
    return out


def register(router: Router, compute) -> None:
    images = compute.images

    def glance_allows(req: ApiRequest, rule: str) -> None:
        """Glance's own rule for a change through the proxy: 403 as Nova relays it."""
        req.authorize(rule, images.policy_target(req.context, req.path_params["image_id"]))

    def proxy(req: ApiRequest) -> None:
        """The proxy is gone from 2.36 on: 404, as in Nova."""
        if at_least(req, 2, 36):
            raise NotFound("The resource could not be found.")

    def glance_query(req: ApiRequest) -> list[tuple[str, str]]:
        q = req.query
        query = [("limit", str(int_query(req, "limit") or 1000))]
        if q.get("marker"):
            query.append(("marker", q["marker"]))
        if q.get("name"):
            query.append(("name", q["name"]))
        if q.get("status"):
            status = q["status"].upper()
            if status not in _NOVA_TO_GLANCE:
                raise BadRequest(f"Invalid image status {q['status']}.")
            query.append(("status", _NOVA_TO_GLANCE[status]))
        if q.get("server"):
            query.append(("instance_uuid", q["server"].rstrip("/").rsplit("/", 1)[-1]))
        if q.get("type"):
            query.append(("image_type", q["type"]))
        if q.get("changes-since"):
            query.append(("updated_at", "gte:" + q["changes-since"]))
        return query

    def listing(req: ApiRequest, detail: bool):
        proxy(req)
        min_ram, min_disk = int_query(req, "minRam") or 0, int_query(req, "minDisk") or 0
        found = [i for i in images.list(req.context, glance_query(req))
                 if (i.min_ram or 0) >= min_ram and (i.min_disk or 0) >= min_disk]
        return {"images": [render(req, i, detail) for i in found]}

    @router.get("/v2.1/images")
    def list_images(req: ApiRequest):
        return listing(req, detail=False)

    @router.get("/v2.1/images/detail")
    def list_images_detail(req: ApiRequest):
        return listing(req, detail=True)

    @router.get("/v2.1/images/{image_id}")
    def show_image(req: ApiRequest):
        proxy(req)
        return {"image": render(req, images.get(req.context, req.path_params["image_id"]))}

    @router.delete("/v2.1/images/{image_id}")
    def delete_image(req: ApiRequest):
        proxy(req)
        glance_allows(req, "delete_image")
        images.delete_as(req.context, req.path_params["image_id"])
        return Response(status_code=204)

    # -- metadata ----------------------------------------------------------------------
    def check_count(req: ApiRequest, count: int) -> None:
        compute.quotas.check_limit(req.context.project_id, "metadata_items", count)

    @router.get("/v2.1/images/{image_id}/metadata")
    def list_metadata(req: ApiRequest):
        proxy(req)
        return {"metadata": images.get(req.context, req.path_params["image_id"]).properties}

    def set_all(req: ApiRequest, replace: bool):
        proxy(req)
        glance_allows(req, "modify_image")
        image_id = req.path_params["image_id"]
        items = validate(req.json(), METADATA)["metadata"]
        current = {} if replace else images.get(req.context, image_id).properties
        check_count(req, len(current | items))
        return {"metadata": images.set_properties(req.context, image_id, items, replace=replace)}

    @router.post("/v2.1/images/{image_id}/metadata")
    def update_metadata(req: ApiRequest):
        return set_all(req, replace=False)

    @router.put("/v2.1/images/{image_id}/metadata")
    def replace_metadata(req: ApiRequest):
        return set_all(req, replace=True)

    @router.get("/v2.1/images/{image_id}/metadata/{key}")
    def show_metadata_item(req: ApiRequest):
        proxy(req)
        image_id, key = req.path_params["image_id"], req.path_params["key"]
        properties = images.get(req.context, image_id).properties
        if key not in properties:
            raise NotFound(f"Image {image_id} has no metadata item {key}.")
        return {"meta": {key: properties[key]}}

    @router.put("/v2.1/images/{image_id}/metadata/{key}")
    def set_metadata_item(req: ApiRequest):
        proxy(req)
        glance_allows(req, "modify_image")
        image_id, key = req.path_params["image_id"], req.path_params["key"]
        item = validate(req.json(), META_ITEM)["meta"]
        if key not in item:
            raise BadRequest("Request body and URI mismatch")
        current = images.get(req.context, image_id).properties
        check_count(req, len(current | item))
        images.set_properties(req.context, image_id, item, replace=False)
        return {"meta": item}

    @router.delete("/v2.1/images/{image_id}/metadata/{key}")
    def delete_metadata_item(req: ApiRequest):
        proxy(req)
        glance_allows(req, "modify_image")
        images.delete_property(req.context, req.path_params["image_id"], req.path_params["key"])
        return Response(status_code=204)
