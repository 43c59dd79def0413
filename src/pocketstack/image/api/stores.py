"""Multiple stores (Glance's ``enabled_backends``): ``GET /v2/info/stores``,
``GET /v2/info/stores/detail`` (admin) and ``DELETE /v2/stores/{store_id}/{image_id}``.

Without named stores (the default) Glance answers all three 404, and so does this
module.  The stores are listed as configured; ``default`` marks where plain uploads go.
"""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.image import errors
from pocketstack.image.api.common import authorize_image
from pocketstack.image.manager import ImageManager
from pocketstack.image.stores.catalog import NamedStore, StoreCatalog

CHUNK_SIZE = 65536  # what the file store reads and writes at a time


def _store(catalog: StoreCatalog, named: NamedStore) -> dict:
    body = {"id": named.id}
    if named.description:
        body["description"] = named.description
    if named.id == catalog.default_id:
        body["default"] = "true"
    return body


class StoresApi:
    def __init__(self, manager: ImageManager):
        self.manager = manager
        self.catalog = manager.store

    def _catalog(self) -> StoreCatalog:
        if not self.catalog.multiple:
            raise errors.MultiStoreDisabled()
        return self.catalog

    @route.get("/v2/info/stores")
    def info_stores(self, req: ApiRequest) -> dict:
        catalog = self._catalog()
        return {"stores": [_store(catalog, s) for s in catalog.configured]}

    @route.get("/v2/info/stores/detail", policy="stores_info_detail")
    def info_stores_detail(self, req: ApiRequest) -> dict:
        catalog = self._catalog()
        req.authorize("stores_info_detail", {"project_id": req.caller.project_id})
        return {"stores": [{**_store(catalog, s), "type": "file", "weight": s.weight,
                            "properties": {"data_dir": str(s.store.root), "chunk_size": CHUNK_SIZE,
                                           "thin_provisioning": False}}
                           for s in catalog.configured]}

    @route.delete("/v2/stores/{store_id}/{image_id}", policy="delete_image_location")
    def delete_from_store(self, req: ApiRequest) -> None:
        if not self.catalog.multiple:
            raise errors.ResourceNotFound()
        store_id = req.path_params["store_id"]
        if self.catalog.get(store_id) is None:
            raise errors.StoreNotOnNode(store=store_id)
        image = authorize_image(req, self.manager, "get_image_location")
        req.authorize("delete_image_location", self.manager.policy_target(req.caller, image))
        self.manager.delete_from_store(req.caller, store_id, image.id)
