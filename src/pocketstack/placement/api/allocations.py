"""``/allocations/{consumer_uuid}``, ``POST /allocations`` (1.13) and
``/resource_providers/{uuid}/allocations``."""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import Router
from pocketstack.common.api.validation import validate
from pocketstack.common.errors import BadRequest, NotFound
from pocketstack.placement.allocations import ANY_GENERATION, ConsumerAllocations
from pocketstack.placement.api import schemas
from pocketstack.placement.api.common import check_uuid, require, version
from pocketstack.placement.manager import PlacementManager


def _request(req: ApiRequest, consumer: str, fields: dict) -> ConsumerAllocations:
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
        consumer, allocations, fields.get("project_id") or req.context.project_id,
        fields.get("user_id") or req.context.user_id,
        generation=fields["consumer_generation"] if version(req) >= (1, 28) else ANY_GENERATION,
        consumer_type=fields.get("consumer_type"))


def register(router: Router, manager: PlacementManager) -> None:
    store = manager.allocations

    @router.get("/allocations/{consumer_uuid}")
    def show_allocations(req: ApiRequest):
        req.authorize("placement:allocations")
        allocations, consumer, generations = store.for_consumer(req.path_params["consumer_uuid"])
        out: dict = {"allocations": {rp: {"generation": generations.get(rp), "resources": res}
                                     for rp, res in allocations.items()}}
        if version(req) >= (1, 12) and consumer is not None:
            out.update(project_id=consumer.project_id, user_id=consumer.user_id)
        if version(req) >= (1, 28) and consumer is not None:
            out["consumer_generation"] = consumer.generation
        if version(req) >= (1, 38) and consumer is not None:
            out["consumer_type"] = consumer.consumer_type or "unknown"
        return out

    @router.put("/allocations/{consumer_uuid}")
    def put_allocations(req: ApiRequest):
        req.authorize("placement:allocations")
        consumer = check_uuid(req.path_params["consumer_uuid"], "consumer uuid")
        fields = validate(req.json(), schemas.allocations_body(version(req)))
        store.write([_request(req, consumer, fields)])

    @router.post("/allocations")
    def post_allocations(req: ApiRequest):
        require(req, (1, 13))
        req.authorize("placement:allocations")
        fields = validate(req.json(), schemas.allocations_post(version(req)))
        store.write([_request(req, consumer, item) for consumer, item in fields.items()])

    @router.delete("/allocations/{consumer_uuid}")
    def delete_allocations(req: ApiRequest):
        req.authorize("placement:allocations")
        consumer = req.path_params["consumer_uuid"]
        if not store.for_consumer(consumer)[0]:
            raise NotFound(f"No allocations for consumer '{consumer}'")
        manager.delete_allocations(consumer)

    @router.get("/resource_providers/{uuid}/allocations")
    def provider_allocations(req: ApiRequest):
        req.authorize("placement:allocations")
        uuid = req.path_params["uuid"]
        generation = manager.providers.get(uuid)["generation"]
        return {"allocations": {c: {"resources": res} for c, res in store.for_provider(uuid).items()},
                "resource_provider_generation": generation}

    # -- usages --------------------------------------------------------------------------
    @router.get("/resource_providers/{uuid}/usages")
    def provider_usages(req: ApiRequest):
        req.authorize("placement:usages")
        uuid = req.path_params["uuid"]
        generation = manager.providers.get(uuid)["generation"]
        return {"usages": store.provider_usages(uuid), "resource_provider_generation": generation}

    @router.get("/usages")
    def project_usages(req: ApiRequest):
        require(req, (1, 9))
        req.authorize("placement:usages")
        project = req.query.get("project_id")
        if not project:
            raise BadRequest("Invalid query string parameters: 'project_id' is a required property")
        user = req.query.get("user_id")
        if version(req) >= (1, 38):
            if "consumer_type" in req.query:
                wanted = req.query["consumer_type"]
                grouped = store.project_usages_by_type(project, user)
                if wanted == "all":
                    return {"usages": {"all": _merge(grouped.values())}}
                return {"usages": {k: v for k, v in grouped.items() if k == wanted}}
            return {"usages": store.project_usages_by_type(project, user)}
        return {"usages": store.project_usages(project, user)}


def _merge(groups) -> dict:
    out: dict = {"consumer_count": 0}
    for group in groups:
        for key, value in group.items():
            out[key] = out.get(key, 0) + value
    return out
