"""``/resource_providers/{uuid}/inventories`` — all at once or one class at a time,
always guarded by the provider generation the client read."""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import route
from pocketstack.placement import errors
from pocketstack.placement import inventory as inv_rules
from pocketstack.placement.api import render, schemas
from pocketstack.placement.providers import Providers

INVENTORIES = "placement:inventories"
BASE = "/resource_providers/{uuid}/inventories"


def normalise(req: ApiRequest, rc: str, fields: dict) -> dict:
    record = {k: v for k, v in fields.items() if k in inv_rules.FIELDS}
    # 1.26: reserved may equal total (a fully reserved, unusable inventory).
    return inv_rules.normalise(rc, record, allow_reserved_equal_total=req.at_least(1, 26))


class InventoriesApi:
    def __init__(self, providers: Providers):
        self.providers = providers

    @route.get(BASE, policy=INVENTORIES)
    def index(self, req: ApiRequest) -> dict:
        req.authorize()
        generation, inventories = self.providers.inventories(req.path_params["uuid"])
        return {"inventories": inventories, "resource_provider_generation": generation}

    @route.put(BASE, policy=INVENTORIES, body=schemas.inventories_put)
    def replace(self, req: ApiRequest) -> dict:
        req.authorize()
        wanted = {rc: normalise(req, rc, inv) for rc, inv in req.data["inventories"].items()}
        generation, inventories = self.providers.replace_inventories(
            req.path_params["uuid"], req.data["resource_provider_generation"], lambda current: wanted)
        return {"inventories": inventories, "resource_provider_generation": generation}

    @route.post(BASE, policy=INVENTORIES, body=schemas.inventory_post)
    def add(self, req: ApiRequest):
        req.authorize()
        uuid, rc = req.path_params["uuid"], req.data["resource_class"]
        record = normalise(req, rc, req.data)

        def add(current: dict) -> dict:
            if rc in current:
                raise errors.InventoryExists(resource_class=rc, uuid=uuid)
            return {**current, rc: record}
        generation, _ = self.providers.replace_inventories(uuid, None, add)
        location = render.location(req, f"/resource_providers/{uuid}/inventories/{rc}")
        return json_response(render.inventory(record, generation), status=201, headers={"Location": location})

    @route.delete(BASE, policy=INVENTORIES, since="1.5")
    def delete_all(self, req: ApiRequest) -> None:
        req.authorize()
        self.providers.replace_inventories(req.path_params["uuid"], None, lambda current: {})

    @route.get(BASE + "/{resource_class}", policy=INVENTORIES)
    def show(self, req: ApiRequest) -> dict:
        req.authorize()
        uuid, rc = req.path_params["uuid"], req.path_params["resource_class"]
        generation, inventories = self.providers.inventories(uuid)
        if rc not in inventories:
            raise errors.InventoryNotFound(resource_class=rc, uuid=uuid)
        return render.inventory(inventories[rc], generation)

    @route.put(BASE + "/{resource_class}", policy=INVENTORIES, body=schemas.inventory_put)
    def update(self, req: ApiRequest) -> dict:
        req.authorize()
        uuid, rc = req.path_params["uuid"], req.path_params["resource_class"]
        record = normalise(req, rc, req.data)

        def update(current: dict) -> dict:
            if rc not in current:
                raise errors.NoInventoryToUpdate(uuid=uuid)
            return {**current, rc: record}
        generation, _ = self.providers.replace_inventories(uuid, req.data["resource_provider_generation"], update)
        return render.inventory(record, generation)

    @route.delete(BASE + "/{resource_class}", policy=INVENTORIES)
    def delete(self, req: ApiRequest) -> None:
        req.authorize()
        uuid, rc = req.path_params["uuid"], req.path_params["resource_class"]

        def remove(current: dict) -> dict:
            if rc not in current:
                raise errors.InventoryNotFoundForDelete(resource_class=rc)
            return {k: v for k, v in current.items() if k != rc}
        self.providers.replace_inventories(uuid, None, remove)
