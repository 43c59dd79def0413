"""``/resource_providers/{uuid}/inventories`` — all at once or one class at a time,
always guarded by the provider generation the client read."""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import Router
from pocketstack.common.errors import BadRequest, Conflict, NotFound
from pocketstack.placement import inventory as inv_rules
from pocketstack.placement.api import render, schemas
from pocketstack.placement.api.common import body, require, version
from pocketstack.placement.manager import PlacementManager


def register(router: Router, manager: PlacementManager) -> None:
    providers = manager.providers

    def normalise(req: ApiRequest, rc: str, fields: dict) -> dict:
        record = {k: v for k, v in fields.items() if k in inv_rules.FIELDS}
        # 1.26: reserved may equal total (a fully reserved, unusable inventory).
        return inv_rules.normalise(rc, record, allow_reserved_equal_total=version(req) >= (1, 26))

    @router.get("/resource_providers/{uuid}/inventories")
    def list_inventories(req: ApiRequest):
        req.authorize("placement:inventories")
        generation, inventories = providers.inventories(req.path_params["uuid"])
        return {"inventories": inventories, "resource_provider_generation": generation}

    @router.put("/resource_providers/{uuid}/inventories")
    def replace_inventories(req: ApiRequest):
        req.authorize("placement:inventories")
        fields = body(req, schemas.inventories_put)
        wanted = {rc: normalise(req, rc, inv) for rc, inv in fields["inventories"].items()}
        generation, inventories = providers.replace_inventories(
            req.path_params["uuid"], fields["resource_provider_generation"], lambda current: wanted)
        return {"inventories": inventories, "resource_provider_generation": generation}

    @router.post("/resource_providers/{uuid}/inventories")
    def add_inventory(req: ApiRequest):
        req.authorize("placement:inventories")
        fields = body(req, schemas.inventory_post)
        rc = fields["resource_class"]
        record = normalise(req, rc, fields)

        def add(current: dict) -> dict:
            if rc in current:
                raise Conflict(f"Update conflict: Inventory for {rc} on resource provider "
                               f"{req.path_params['uuid']} already exists.")
            return {**current, rc: record}
        generation, _ = providers.replace_inventories(req.path_params["uuid"], None, add)
        location = render.location(req, f"/resource_providers/{req.path_params['uuid']}/inventories/{rc}")
        return json_response(render.inventory(record, generation), status=201, headers={"Location": location})

    @router.delete("/resource_providers/{uuid}/inventories")
    def delete_inventories(req: ApiRequest):
        require(req, (1, 5))
        req.authorize("placement:inventories")
        providers.replace_inventories(req.path_params["uuid"], None, lambda current: {})

    @router.get("/resource_providers/{uuid}/inventories/{resource_class}")
    def show_inventory(req: ApiRequest):
        req.authorize("placement:inventories")
        uuid, rc = req.path_params["uuid"], req.path_params["resource_class"]
        generation, inventories = providers.inventories(uuid)
        if rc not in inventories:
            raise NotFound(f"No inventory of class {rc} for {uuid}")
        return render.inventory(inventories[rc], generation)

    @router.put("/resource_providers/{uuid}/inventories/{resource_class}")
    def update_inventory(req: ApiRequest):
        req.authorize("placement:inventories")
        uuid, rc = req.path_params["uuid"], req.path_params["resource_class"]
        fields = body(req, schemas.inventory_put)
        record = normalise(req, rc, fields)

        def update(current: dict) -> dict:
            if rc not in current:
                raise BadRequest(f"No inventory record with resource class for resource provider {uuid}")
            return {**current, rc: record}
        generation, _ = providers.replace_inventories(uuid, fields["resource_provider_generation"], update)
        return render.inventory(record, generation)

    @router.delete("/resource_providers/{uuid}/inventories/{resource_class}")
    def delete_inventory(req: ApiRequest):
        req.authorize("placement:inventories")
        uuid, rc = req.path_params["uuid"], req.path_params["resource_class"]

        def remove(current: dict) -> dict:
            if rc not in current:
                raise NotFound(f"No inventory of class {rc} found for delete")
            return {k: v for k, v in current.items() if k != rc}
        providers.replace_inventories(uuid, None, remove)
