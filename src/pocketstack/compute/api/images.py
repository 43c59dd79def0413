"""``/images``: Nova's proxy of the Image service (deprecated; gone from microversion 2.36).

Images are listed, shown and deleted through the image service's manager with the
caller's own credentials, so Glance's visibility rules apply; an image's Nova
``metadata`` is its free-form Glance properties.  Status and progress follow Nova's
mapping of Glance states.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.common.validation import validate
from pocketstack.compute import disk_config, errors
from pocketstack.compute.api.common import int_query, links
from pocketstack.compute.api.schemas import images as schemas
from pocketstack.compute.images import Images
from pocketstack.compute.quotas import Quotas

# Glance status -> (Nova status, progress)
_STATUS = {"queued": ("SAVING", 25), "saving": ("SAVING", 50), "uploading": ("SAVING", 50),
           "importing": ("SAVING", 50), "active": ("ACTIVE", 100), "killed": ("ERROR", 0),
           "deleted": ("DELETED", 0), "pending_delete": ("DELETED", 0)}
_NOVA_TO_GLANCE = {"ACTIVE": "active", "SAVING": "in:queued,saving", "ERROR": "killed",
                   "DELETED": "in:deleted,pending_delete"}


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
                "OS-EXT-IMG-SIZE:size": image.size, **disk_config.image_view(image.properties)})
    server_id = image.properties.get("instance_uuid")
    if server_id:
        out["server"] = {"id": server_id, "links": links(req, "servers", server_id)}
    return out


def glance_query(query: Mapping[str, str], limit: int | None) -> list[tuple[str, str]]:
    """Nova's image filters as Glance v2 query parameters."""
    q = query
    found = [("limit", str(limit or 1000))]
    if q.get("marker"):
        found.append(("marker", q["marker"]))
    if q.get("name"):
        found.append(("name", q["name"]))
    if q.get("status"):
        status = q["status"].upper()
        if status not in _NOVA_TO_GLANCE:
            raise errors.InvalidImageStatus(value=q["status"])
        found.append(("status", _NOVA_TO_GLANCE[status]))
    if q.get("server"):
        found.append(("instance_uuid", q["server"].rstrip("/").rsplit("/", 1)[-1]))
    if q.get("type"):
        found.append(("image_type", q["type"]))
    if q.get("changes-since"):
        found.append(("updated_at", "gte:" + q["changes-since"]))
    return found


# The proxy exists up to 2.35 (404 from 2.36 on, before anything else, as in Nova).
UNTIL = "2.35"
# Changes are Glance's to allow: its own rules, checked against its policy target of the
# image, so the proxy refuses exactly what Glance would (Nova relays Glance's 403).
MODIFY, DELETE = "modify_image", "delete_image"


class ImagesApi:
    def __init__(self, images: Images, quotas: Quotas):
        self.images = images
        self.quotas = quotas

    def glance_allows(self, req: ApiRequest) -> None:
        req.authorize(target=self.images.policy_target(req.caller, req.path_params["image_id"]))

    def listing(self, req: ApiRequest, detail: bool) -> dict:
        min_ram, min_disk = int_query(req, "minRam") or 0, int_query(req, "minDisk") or 0
        found = [i for i in self.images.list(req.caller, glance_query(req.query, int_query(req, "limit")))
                 if (i.min_ram or 0) >= min_ram and (i.min_disk or 0) >= min_disk]
        return {"images": [render(req, i, detail) for i in found]}

    @route.get("/v2.1/images", until=UNTIL)
    def index(self, req: ApiRequest) -> dict:
        return self.listing(req, detail=False)

    @route.get("/v2.1/images/detail", until=UNTIL)
    def detail(self, req: ApiRequest) -> dict:
        return self.listing(req, detail=True)

    @route.get("/v2.1/images/{image_id}", until=UNTIL)
    def show(self, req: ApiRequest) -> dict:
        return {"image": render(req, self.images.get(req.caller, req.path_params["image_id"]))}

    @route.delete("/v2.1/images/{image_id}", policy=DELETE, until=UNTIL)
    def delete(self, req: ApiRequest) -> Response:
        self.glance_allows(req)
        self.images.delete_as(req.caller, req.path_params["image_id"])
        return Response(status_code=204)

    # -- metadata ----------------------------------------------------------------------
    def check_count(self, req: ApiRequest, count: int) -> None:
        self.quotas.check_limit(req.caller.project_id, "metadata_items", count)

    @route.get("/v2.1/images/{image_id}/metadata", until=UNTIL)
    def metadata(self, req: ApiRequest) -> dict:
        return {"metadata": self.images.get(req.caller, req.path_params["image_id"]).properties}

    def set_all(self, req: ApiRequest, replace: bool) -> dict:
        """Glance's rule first, then the body (no ``body=``), as today."""
        self.glance_allows(req)
        image_id = req.path_params["image_id"]
        items = validate(req.json(), schemas.METADATA)["metadata"]
        current = {} if replace else self.images.get(req.caller, image_id).properties
        self.check_count(req, len(current | items))
        return {"metadata": self.images.set_properties(req.caller, image_id, items, replace=replace)}

    @route.post("/v2.1/images/{image_id}/metadata", policy=MODIFY, until=UNTIL)
    def update_metadata(self, req: ApiRequest) -> dict:
        return self.set_all(req, replace=False)

    @route.put("/v2.1/images/{image_id}/metadata", policy=MODIFY, until=UNTIL)
    def replace_metadata(self, req: ApiRequest) -> dict:
        return self.set_all(req, replace=True)

    @route.get("/v2.1/images/{image_id}/metadata/{key}", until=UNTIL)
    def metadata_item(self, req: ApiRequest) -> dict:
        image_id, key = req.path_params["image_id"], req.path_params["key"]
        properties = self.images.get(req.caller, image_id).properties
        if key not in properties:
            raise errors.ImageMetadataItemNotFound(image_id=image_id, key=key)
        return {"meta": {key: properties[key]}}

    @route.put("/v2.1/images/{image_id}/metadata/{key}", policy=MODIFY, until=UNTIL)
    def set_metadata_item(self, req: ApiRequest) -> dict:
        self.glance_allows(req)
        image_id, key = req.path_params["image_id"], req.path_params["key"]
        item = validate(req.json(), schemas.META_ITEM)["meta"]
        if key not in item:
            raise errors.BodyUriMismatch()
        current = self.images.get(req.caller, image_id).properties
        self.check_count(req, len(current | item))
        self.images.set_properties(req.caller, image_id, item, replace=False)
        return {"meta": item}

    @route.delete("/v2.1/images/{image_id}/metadata/{key}", policy=MODIFY, until=UNTIL)
    def delete_metadata_item(self, req: ApiRequest) -> None:
        self.glance_allows(req)
        self.images.delete_property(req.caller, req.path_params["image_id"], req.path_params["key"])
