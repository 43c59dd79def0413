"""``/os-aggregates``: host aggregates, their hosts and metadata (admin only).

Bodies match Nova's (``deleted``/``deleted_at`` are always false/null: deleted
aggregates are gone, not soft-deleted); 2.41 adds ``uuid``.  Create answers without
``hosts`` and ``metadata``, as Nova does.
"""

from __future__ import annotations

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import Router
from pocketstack.common.api.validation import validate
from pocketstack.compute.api.common import at_least, body

_NAME = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^(?! )[^\x00-\x1f]*(?<! )$"}
_ZONE = {"type": ["string", "null"], "minLength": 1, "maxLength": 255, "pattern": r"^(?! )[^\x00-\x1f:]*(?<! )$"}
CREATE = {"type": "object", "required": ["aggregate"], "additionalProperties": False, "properties": {
    "aggregate": {"type": "object", "required": ["name"], "additionalProperties": False,
                  "properties": {"name": _NAME, "availability_zone": _ZONE}}}}
UPDATE = {"type": "object", "required": ["aggregate"], "additionalProperties": False, "properties": {
    "aggregate": {"type": "object", "minProperties": 1, "additionalProperties": False,
                  "properties": {"name": _NAME, "availability_zone": _ZONE}}}}
_HOST = {"type": "object", "required": ["host"], "additionalProperties": False,
         "properties": {"host": {"type": "string", "minLength": 1, "maxLength": 255}}}
ACTION = {"type": "object", "minProperties": 1, "maxProperties": 1, "additionalProperties": False, "properties": {
    "add_host": _HOST, "remove_host": _HOST,
    "set_metadata": {"type": "object", "required": ["metadata"], "additionalProperties": False, "properties": {
        "metadata": {"type": "object", "propertyNames": {"type": "string", "minLength": 1, "maxLength": 255},
                     "additionalProperties": {"type": ["string", "null"], "maxLength": 255}}}}}}


def render(req: ApiRequest, agg, full: bool = True) -> dict:
    out = {"id": agg.id, "name": agg.name, "availability_zone": agg.availability_zone,
           "created_at": agg.created_at, "updated_at": agg.updated_at, "deleted": False, "deleted_at": None}
    if full:
        out.update({"hosts": agg.hosts, "metadata": agg.metadata})
    if at_least(req, 2, 41):
        out["uuid"] = agg.uuid
    return out


def register(router: Router, compute) -> None:
    aggregates = compute.aggregates

    @router.get("/v2.1/os-aggregates")
    def list_aggregates(req: ApiRequest):
        req.authorize("os_compute_api:os-aggregates:index")
        return {"aggregates": [render(req, a) for a in aggregates.list()]}

    @router.post("/v2.1/os-aggregates")
    def create_aggregate(req: ApiRequest):
        req.authorize("os_compute_api:os-aggregates:create")
        data = body(req, CREATE, "aggregate")
        return {"aggregate": render(req, aggregates.create(data["name"], data.get("availability_zone")),
                                    full=False)}

    @router.get("/v2.1/os-aggregates/{aggregate_id}")
    def show_aggregate(req: ApiRequest):
        req.authorize("os_compute_api:os-aggregates:show")
        return {"aggregate": render(req, aggregates.get(req.path_params["aggregate_id"]))}

    @router.put("/v2.1/os-aggregates/{aggregate_id}")
    def update_aggregate(req: ApiRequest):
        req.authorize("os_compute_api:os-aggregates:update")
        data = body(req, UPDATE, "aggregate")
        agg = aggregates.update(req.path_params["aggregate_id"], data.get("name"), data.get("availability_zone"),
                                "availability_zone" in data)
        return {"aggregate": render(req, agg)}

    @router.delete("/v2.1/os-aggregates/{aggregate_id}")
    def delete_aggregate(req: ApiRequest):
        req.authorize("os_compute_api:os-aggregates:delete")
        aggregates.delete(req.path_params["aggregate_id"])
        return Response(status_code=200)

    @router.post("/v2.1/os-aggregates/{aggregate_id}/action")
    def aggregate_action(req: ApiRequest):
        aggregate_id = req.path_params["aggregate_id"]
        (action, args), = validate(req.json(), ACTION).items()
        req.authorize(f"os_compute_api:os-aggregates:{action}")
        if action == "add_host":
            agg = aggregates.add_host(aggregate_id, args["host"])
        elif action == "remove_host":
            agg = aggregates.remove_host(aggregate_id, args["host"])
        else:
            agg = aggregates.set_metadata(aggregate_id, args["metadata"])
        return {"aggregate": render(req, agg)}
