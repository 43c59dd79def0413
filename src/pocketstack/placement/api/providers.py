"""``/resource_providers`` and their traits and aggregates."""

from __future__ import annotations

import uuid as uuidlib

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import Router
from pocketstack.common.api.validation import validate
from pocketstack.common.errors import BadRequest
from pocketstack.placement.api import query, render, schemas
from pocketstack.placement.api.common import body, check_uuid, require, version
from pocketstack.placement.manager import PlacementManager

_LIST_FILTERS = {(1, 0): {"name", "uuid"}, (1, 3): {"member_of"}, (1, 4): {"resources"}, (1, 14): {"in_tree"},
                 (1, 18): {"required"}}


def _allowed_filters(req: ApiRequest) -> set[str]:
    return set().union(*(names for v, names in _LIST_FILTERS.items() if version(req) >= v))


def register(router: Router, manager: PlacementManager) -> None:
    providers = manager.providers

    @router.get("/resource_providers")
    def list_providers(req: ApiRequest):
        req.authorize("placement:resource_providers")
        unknown = set(req.query) - _allowed_filters(req)
        if unknown:
            raise BadRequest(f"Invalid query string parameters: {', '.join(sorted(unknown))} is not allowed.",
                             error_type="placement.query.bad_value")
        required, forbidden, any_traits = query.traits(req, req.query.getlist("required"),
                                                       allow_forbidden=version(req) >= (1, 22))
        query.check_traits_exist(manager.catalog, required | forbidden | set().union(*any_traits))
        resources = query.resources(req.query["resources"]) if "resources" in req.query else None
        if resources:
            query.check_classes_exist(manager.catalog, resources)
        in_tree = req.query.get("in_tree")
        if in_tree is not None:
            check_uuid(in_tree, "in_tree")
            if not _exists(manager, in_tree):
                return {"resource_providers": []}
        found = providers.list(name=req.query.get("name"), uuid=req.query.get("uuid"), in_tree=in_tree,
                               member_of=query.member_of(req, req.query.getlist("member_of")),
                               required=required, forbidden=forbidden, any_traits=any_traits, resources=resources)
        return {"resource_providers": [render.provider(req, rp) for rp in found]}

    @router.post("/resource_providers")
    def create_provider(req: ApiRequest):
        req.authorize("placement:resource_providers")
        fields = body(req, schemas.provider_create)
        parent = fields.get("parent_provider_uuid")
        if parent is not None and version(req) < (1, 14):
            raise BadRequest("parent_provider_uuid is not supported before microversion 1.14.")
        rp = providers.create(fields.get("uuid") or str(uuidlib.uuid4()), fields["name"], parent)
        location = render.location(req, f"/resource_providers/{rp['uuid']}")
        if version(req) >= (1, 20):
            return json_response(render.provider(req, rp), status=200, headers={"Location": location})
        return Response(status_code=201, headers={"Location": location})

    @router.get("/resource_providers/{uuid}")
    def show_provider(req: ApiRequest):
        req.authorize("placement:resource_providers")
        return render.provider(req, providers.get(req.path_params["uuid"]))

    @router.put("/resource_providers/{uuid}")
    def update_provider(req: ApiRequest):
        req.authorize("placement:resource_providers")
        fields = body(req, schemas.provider_update)
        uuid = req.path_params["uuid"]
        current = providers.get(uuid)
        parent = fields.get("parent_provider_uuid", current["parent_provider_uuid"]) \
            if version(req) >= (1, 14) else current["parent_provider_uuid"]
        rp = providers.update(uuid, fields["name"], parent, allow_reparent=version(req) >= (1, 37))
        return render.provider(req, rp)

    @router.delete("/resource_providers/{uuid}")
    def delete_provider(req: ApiRequest):
        req.authorize("placement:resource_providers")
        providers.delete(req.path_params["uuid"])

    # -- traits on a provider (1.6) ---------------------------------------------------
    @router.get("/resource_providers/{uuid}/traits")
    def provider_traits(req: ApiRequest):
        require(req, (1, 6))
        req.authorize("placement:traits")
        generation, traits = providers.traits(req.path_params["uuid"])
        return {"traits": traits, "resource_provider_generation": generation}

    @router.put("/resource_providers/{uuid}/traits")
    def set_provider_traits(req: ApiRequest):
        require(req, (1, 6))
        req.authorize("placement:traits")
        fields = body(req, schemas.traits_put)
        uuid = req.path_params["uuid"]
        generation = providers.set_traits(uuid, fields["resource_provider_generation"], fields["traits"])
        return {"traits": sorted(fields["traits"]), "resource_provider_generation": generation}

    @router.delete("/resource_providers/{uuid}/traits")
    def delete_provider_traits(req: ApiRequest):
        require(req, (1, 6))
        req.authorize("placement:traits")
        providers.set_traits(req.path_params["uuid"], None, [])

    # -- aggregates (1.1; generation-guarded from 1.19) ---------------------------------
    @router.get("/resource_providers/{uuid}/aggregates")
    def provider_aggregates(req: ApiRequest):
        require(req, (1, 1))
        req.authorize("placement:aggregates")
        generation, aggregates = providers.aggregates(req.path_params["uuid"])
        return _aggregates_body(req, aggregates, generation)

    @router.put("/resource_providers/{uuid}/aggregates")
    def set_provider_aggregates(req: ApiRequest):
        require(req, (1, 1))
        req.authorize("placement:aggregates")
        uuid = req.path_params["uuid"]
        if version(req) >= (1, 19):
            fields = body(req, schemas.aggregates)
            aggregates, expected = fields["aggregates"], fields["resource_provider_generation"]
        else:
            aggregates, expected = validate(req.json(), schemas.aggregates_legacy), None
        generation = providers.set_aggregates(uuid, expected, aggregates)
        return _aggregates_body(req, sorted(set(aggregates)), generation)


def _aggregates_body(req: ApiRequest, aggregates: list[str], generation: int) -> dict:
    out: dict = {"aggregates": aggregates}
    if version(req) >= (1, 19):
        out["resource_provider_generation"] = generation
    return out


def _exists(manager: PlacementManager, uuid: str) -> bool:
    return bool(manager.providers.list(uuid=uuid))

