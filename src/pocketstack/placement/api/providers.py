"""``/resource_providers`` and their traits and aggregates."""

from __future__ import annotations

import uuid as uuidlib

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import route
from pocketstack.placement.api import query, render, schemas
from pocketstack.placement.api.common import check_uuid
from pocketstack.placement.manager import PlacementManager

PROVIDERS, TRAITS, AGGREGATES = "placement:resource_providers", "placement:traits", "placement:aggregates"
_LIST_FILTERS = {(1, 0): {"name", "uuid"}, (1, 3): {"member_of"}, (1, 4): {"resources"}, (1, 14): {"in_tree"},
                 (1, 18): {"required"}}


def allowed_filters(req: ApiRequest) -> set[str]:
    """The query parameters ``GET /resource_providers`` takes at the request's microversion."""
    return set().union(*(names for since, names in _LIST_FILTERS.items() if req.at_least(*since)))


class ProvidersApi:
    def __init__(self, manager: PlacementManager):
        self.manager = manager
        self.providers = manager.providers

    @route.get("/resource_providers", policy=PROVIDERS)
    def index(self, req: ApiRequest) -> dict:
        req.authorize()
        unknown = set(req.query) - allowed_filters(req)
        if unknown:
            raise query.bad(f"Invalid query string parameters: {', '.join(sorted(unknown))} is not allowed.")
        catalog = self.manager.catalog
        required, forbidden, any_traits = query.traits(req, req.query.getlist("required"),
                                                       allow_forbidden=req.at_least(1, 22))
        query.check_traits_exist(catalog, required | forbidden | set().union(*any_traits))
        resources = query.resources(req.query["resources"]) if "resources" in req.query else None
        if resources:
            query.check_classes_exist(catalog, resources)
        in_tree = req.query.get("in_tree")
        if in_tree is not None:
            check_uuid(in_tree, "in_tree")
            if not self.providers.list(uuid=in_tree):
                return {"resource_providers": []}
        found = self.providers.list(name=req.query.get("name"), uuid=req.query.get("uuid"), in_tree=in_tree,
                                    member_of=query.member_of(req, req.query.getlist("member_of")),
                                    required=required, forbidden=forbidden, any_traits=any_traits,
                                    resources=resources)
        return {"resource_providers": [render.provider(req, rp) for rp in found]}

    @route.post("/resource_providers", policy=PROVIDERS,
                body={"1.0": schemas.provider_create, "1.14": schemas.provider_create_v114})
    def create(self, req: ApiRequest) -> Response:
        req.authorize()
        rp = self.providers.create(req.data.get("uuid") or str(uuidlib.uuid4()), req.data["name"],
                                   req.data.get("parent_provider_uuid"))
        location = render.location(req, f"/resource_providers/{rp['uuid']}")
        if req.at_least(1, 20):
            return json_response(render.provider(req, rp), status=200, headers={"Location": location})
        return Response(status_code=201, headers={"Location": location})

    @route.get("/resource_providers/{uuid}", policy=PROVIDERS)
    def show(self, req: ApiRequest) -> dict:
        req.authorize()
        return render.provider(req, self.providers.get(req.path_params["uuid"]))

    @route.put("/resource_providers/{uuid}", policy=PROVIDERS,
               body={"1.0": schemas.provider_update, "1.14": schemas.provider_update_v114})
    def update(self, req: ApiRequest) -> dict:
        req.authorize()
        uuid = req.path_params["uuid"]
        parent = req.data.get("parent_provider_uuid", self.providers.get(uuid)["parent_provider_uuid"])
        rp = self.providers.update(uuid, req.data["name"], parent, allow_reparent=req.at_least(1, 37))
        return render.provider(req, rp)

    @route.delete("/resource_providers/{uuid}", policy=PROVIDERS)
    def delete(self, req: ApiRequest) -> None:
        req.authorize()
        self.providers.delete(req.path_params["uuid"])

    # -- traits on a provider (1.6) ---------------------------------------------------
    @route.get("/resource_providers/{uuid}/traits", policy=TRAITS, since="1.6")
    def traits(self, req: ApiRequest) -> dict:
        req.authorize()
        generation, traits = self.providers.traits(req.path_params["uuid"])
        return {"traits": traits, "resource_provider_generation": generation}

    @route.put("/resource_providers/{uuid}/traits", policy=TRAITS, since="1.6", body=schemas.traits_put)
    def set_traits(self, req: ApiRequest) -> dict:
        req.authorize()
        generation = self.providers.set_traits(req.path_params["uuid"], req.data["resource_provider_generation"],
                                               req.data["traits"])
        return {"traits": sorted(req.data["traits"]), "resource_provider_generation": generation}

    @route.delete("/resource_providers/{uuid}/traits", policy=TRAITS, since="1.6")
    def delete_traits(self, req: ApiRequest) -> None:
        req.authorize()
        self.providers.set_traits(req.path_params["uuid"], None, [])

    # -- aggregates (1.1; generation-guarded from 1.19) ---------------------------------
    @route.get("/resource_providers/{uuid}/aggregates", policy=AGGREGATES, since="1.1")
    def aggregates(self, req: ApiRequest) -> dict:
        req.authorize()
        generation, aggregates = self.providers.aggregates(req.path_params["uuid"])
        return aggregates_body(req, aggregates, generation)

    @route.put("/resource_providers/{uuid}/aggregates", policy=AGGREGATES, since="1.1",
               body={"1.1": schemas.aggregates_legacy, "1.19": schemas.aggregates})
    def set_aggregates(self, req: ApiRequest) -> dict:
        req.authorize()
        if req.at_least(1, 19):
            aggregates, expected = req.data["aggregates"], req.data["resource_provider_generation"]
        else:
            aggregates, expected = req.data, None
        generation = self.providers.set_aggregates(req.path_params["uuid"], expected, aggregates)
        return aggregates_body(req, sorted(set(aggregates)), generation)


def aggregates_body(req: ApiRequest, aggregates: list[str], generation: int) -> dict:
    out: dict = {"aggregates": aggregates}
    if req.at_least(1, 19):
        out["resource_provider_generation"] = generation
    return out
