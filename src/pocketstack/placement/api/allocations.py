"""``/allocations/{consumer_uuid}``, ``POST /allocations`` (1.13),
``/resource_providers/{uuid}/allocations`` and the usages."""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.placement import errors
from pocketstack.placement.allocations import ANY_GENERATION, ConsumerAllocations
from pocketstack.placement.api import schemas
from pocketstack.placement.api.common import check_uuid
from pocketstack.placement.manager import PlacementManager

ALLOCATIONS, USAGES = "placement:allocations", "placement:usages"


def consumer_request(req: ApiRequest, consumer: str, fields: dict) -> ConsumerAllocations:
    """One consumer's write from a validated body, in either allocation format."""
    raw = fields["allocations"]
    if isinstance(raw, list):  # < 1.12: [{"resource_provider": {"uuid"}, "resources"}]
        allocations: dict[str, dict[str, int]] = {}
        for item in raw:
            allocations.setdefault(item["resource_provider"]["uuid"], {}).update(item["resources"])
    else:
        allocations = {rp: dict(item["resources"]) for rp, item in raw.items()}
    # The in-process default owner for pre-1.8 requests, which carried none.
    return ConsumerAllocations(
        consumer, allocations, fields.get("project_id") or req.caller.project_id,
        fields.get("user_id") or req.caller.user_id,
        generation=fields["consumer_generation"] if req.at_least(1, 28) else ANY_GENERATION,
        consumer_type=fields.get("consumer_type"))


def merge_usages(groups) -> dict:
    out: dict = {"consumer_count": 0}
    for group in groups:
        for key, value in group.items():
            out[key] = out.get(key, 0) + value
    return out


class AllocationsApi:
    def __init__(self, manager: PlacementManager):
        self.manager = manager
        self.store = manager.allocations

    @route.get("/allocations/{consumer_uuid}", policy=ALLOCATIONS)
    def show(self, req: ApiRequest) -> dict:
        req.authorize()
        allocations, consumer, generations = self.store.for_consumer(req.path_params["consumer_uuid"])
        out: dict = {"allocations": {rp: {"generation": generations.get(rp), "resources": res}
                                     for rp, res in allocations.items()}}
        if consumer is not None:
            if req.at_least(1, 12):
                out.update(project_id=consumer.project_id, user_id=consumer.user_id)
            if req.at_least(1, 28):
                out["consumer_generation"] = consumer.generation
            if req.at_least(1, 38):
                out["consumer_type"] = consumer.consumer_type or "unknown"
        return out

    @route.put("/allocations/{consumer_uuid}", policy=ALLOCATIONS, body=schemas.ALLOCATIONS_PUT)
    def put(self, req: ApiRequest) -> None:
        req.authorize()
        consumer = check_uuid(req.path_params["consumer_uuid"], "consumer uuid")
        self.store.write([consumer_request(req, consumer, req.data)])

    @route.post("/allocations", policy=ALLOCATIONS, since="1.13", body=schemas.ALLOCATIONS_POST)
    def post(self, req: ApiRequest) -> None:
        req.authorize()
        self.store.write([consumer_request(req, consumer, item) for consumer, item in req.data.items()])

    @route.delete("/allocations/{consumer_uuid}", policy=ALLOCATIONS)
    def delete(self, req: ApiRequest) -> None:
        req.authorize()
        consumer = req.path_params["consumer_uuid"]
        if not self.store.for_consumer(consumer)[0]:
            raise errors.AllocationsNotFound(consumer=consumer)
        self.manager.delete_allocations(consumer)

    @route.get("/resource_providers/{uuid}/allocations", policy=ALLOCATIONS)
    def of_provider(self, req: ApiRequest) -> dict:
        req.authorize()
        uuid = req.path_params["uuid"]
        generation = self.manager.providers.get(uuid)["generation"]
        return {"allocations": {c: {"resources": res} for c, res in self.store.for_provider(uuid).items()},
                "resource_provider_generation": generation}


class UsagesApi:
    def __init__(self, manager: PlacementManager):
        self.manager = manager
        self.store = manager.allocations

    @route.get("/resource_providers/{uuid}/usages", policy=USAGES)
    def of_provider(self, req: ApiRequest) -> dict:
        req.authorize()
        uuid = req.path_params["uuid"]
        generation = self.manager.providers.get(uuid)["generation"]
        return {"usages": self.store.provider_usages(uuid), "resource_provider_generation": generation}

    @route.get("/usages", policy=USAGES, since="1.9")
    def of_project(self, req: ApiRequest) -> dict:
        req.authorize()
        project = req.query.get("project_id")
        if not project:
            raise errors.MissingQueryParameter(name="project_id")
        user = req.query.get("user_id")
        if not req.at_least(1, 38):
            return {"usages": self.store.project_usages(project, user)}
        grouped = self.store.project_usages_by_type(project, user)
        if "consumer_type" not in req.query:
            return {"usages": grouped}
        wanted = req.query["consumer_type"]
        if wanted == "all":
            return {"usages": {"all": merge_usages(grouped.values())}}
        return {"usages": {k: v for k, v in grouped.items() if k == wanted}}
