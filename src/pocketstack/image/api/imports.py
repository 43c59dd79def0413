"""Interoperable image import: ``GET /v2/info/import``, ``PUT /v2/images/{id}/stage`` and
``POST /v2/images/{id}/import`` (into the stores of ``stores``, ``all_stores`` or the
``X-Image-Meta-Store`` header when there are several; ``copy-image`` then too).

Staging streams like ``/file`` (``api/data.py``): blocks of ~1 MiB are written in worker
threads.  Glance checks the import body before the image (400 before 404), then the
image's status (409), then ownership (``modify_image``, 403).
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.image import errors, importing
from pocketstack.image.api.common import authorize_image
from pocketstack.image.api.data import check_upload_headers, receive
from pocketstack.image.manager import ImageManager

STORE_HEADER = "x-image-meta-store"


class ImportApi:
    def __init__(self, manager: ImageManager):
        self.manager = manager
        self.importer = manager.importer

    @route.get("/v2/info/import")
    def info_import(self, req: ApiRequest) -> dict:
        return {"import-methods": {"description": "Import methods available.", "type": "array",
                                   "value": list(self.importer.methods)}}

    @route.put("/v2/images/{image_id}/stage", policy="modify_image", stream=True)
    async def stage(self, req: ApiRequest) -> None:
        importer = self.importer
        check_upload_headers(req, importer.size_cap)
        image = await run_in_threadpool(authorize_image, req, self.manager, "modify_image")
        upload = await run_in_threadpool(importer.begin_stage, req.caller, image.id)
        await receive(req, upload, importer.fail_stage)
        await run_in_threadpool(importer.finish_stage, upload)

    @route.post("/v2/images/{image_id}/import", policy="modify_image", status=202)
    def import_image(self, req: ApiRequest) -> Response:
        body = req.json()
        method = importing.check_request(body, self.importer.methods)
        image = self.manager.get_image(req.caller, req.path_params["image_id"])
        importing.check_importable(image, method)
        # copy-image is governed by its own rule (admin): who may copy need not own it.
        rule = "copy_image" if method == importing.COPY else "modify_image"
        req.authorize(rule, self.manager.policy_target(req.caller, image))
        stores = importing.target_stores(self.manager.store, image, body, req.headers.get(STORE_HEADER))
        if not stores:  # a copy to every store, and the image is in all of them already
            return Response(status_code=202)
        if body.get("all_stores_must_succeed") is False and not self.manager.store.multiple:
            raise errors.AllStoresMustSucceedSingleStore(uri=body["method"].get("uri"))
        if method == "web-download" and not self.importer.allowed.allows(body["method"].get("uri")):
            raise errors.ImportUriFiltered(uri=body["method"].get("uri"))
        self.importer.start(req.caller, image.id, body, stores)
        return Response(status_code=202)
