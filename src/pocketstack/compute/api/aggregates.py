"""``/os-aggregates``: host aggregates, their hosts and metadata (admin only).

Bodies match Nova's (``deleted``/``deleted_at`` are always false/null: deleted
aggregates are gone, not soft-deleted); 2.41 adds ``uuid``.  Create answers without
``hosts`` and ``metadata``, as Nova does.  2.81 asks the aggregate's hosts to cache images
(``POST /os-aggregates/{id}/images``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.compute import errors
from pocketstack.compute.aggregates import Aggregates
from pocketstack.compute.api.schemas import aggregates as schemas

if TYPE_CHECKING:
    from pocketstack.compute.manager import Compute

RULE = "os_compute_api:os-aggregates:{}"


def render(req: ApiRequest, agg, full: bool = True) -> dict:
    out = {"id": agg.id, "name": agg.name, "availability_zone": agg.availability_zone,
           "created_at": agg.created_at, "updated_at": agg.updated_at, "deleted": False, "deleted_at": None}
    if full:
        out.update({"hosts": agg.hosts, "metadata": agg.metadata})
    if req.at_least(2, 41):
        out["uuid"] = agg.uuid
    return out


class AggregatesApi:
    def __init__(self, aggregates: Aggregates):
        self.aggregates = aggregates

    @route.get("/v2.1/os-aggregates", policy="os_compute_api:os-aggregates:index")
    def index(self, req: ApiRequest) -> dict:
        req.authorize()
        return {"aggregates": [render(req, a) for a in self.aggregates.list()]}

    @route.post("/v2.1/os-aggregates", policy="os_compute_api:os-aggregates:create", body=schemas.CREATE,
                authorize_first=True)
    def create(self, req: ApiRequest) -> dict:
        req.authorize()
        data = req.data["aggregate"]
        agg = self.aggregates.create(data["name"], data.get("availability_zone"))
        return {"aggregate": render(req, agg, full=False)}

    @route.get("/v2.1/os-aggregates/{aggregate_id}", policy="os_compute_api:os-aggregates:show")
    def show(self, req: ApiRequest) -> dict:
        req.authorize()
        return {"aggregate": render(req, self.aggregates.get(req.path_params["aggregate_id"]))}

    @route.put("/v2.1/os-aggregates/{aggregate_id}", policy="os_compute_api:os-aggregates:update",
               body=schemas.UPDATE, authorize_first=True)
    def update(self, req: ApiRequest) -> dict:
        req.authorize()
        data = req.data["aggregate"]
        agg = self.aggregates.update(req.path_params["aggregate_id"], data.get("name"),
                                     data.get("availability_zone"), "availability_zone" in data)
        return {"aggregate": render(req, agg)}

    @route.delete("/v2.1/os-aggregates/{aggregate_id}", policy="os_compute_api:os-aggregates:delete")
    def delete(self, req: ApiRequest) -> Response:
        req.authorize()
        self.aggregates.delete(req.path_params["aggregate_id"])
        return Response(status_code=200)

    # The body names the action, and the action its rule (add_host, remove_host,
    # set_metadata): validated first, as today.
    @route.post("/v2.1/os-aggregates/{aggregate_id}/action", policy="os_compute_api:os-aggregates:add_host",
                body=schemas.ACTION)
    def action(self, req: ApiRequest) -> dict:
        aggregate_id = req.path_params["aggregate_id"]
        (action, args), = req.data.items()
        req.authorize(RULE.format(action))
        if action == "add_host":
            agg = self.aggregates.add_host(aggregate_id, args["host"])
        elif action == "remove_host":
            agg = self.aggregates.remove_host(aggregate_id, args["host"])
        else:
            agg = self.aggregates.set_metadata(aggregate_id, args["metadata"])
        return {"aggregate": render(req, agg)}


class AggregateImagesApi:
    """2.81's image pre-caching: each host of the aggregate whose service is up is asked to
    fetch the images into its image cache (QEMU hosts: the base images their guests'
    disks are made from; the fake hypervisor keeps a set, as Nova's fake driver).  As in
    Nova the answer is a 202 before any host has done it; how each image fared (cached,
    existing, error, unsupported) is logged by the host, and down hosts are skipped."""

    def __init__(self, compute: Compute):
        self.compute = compute

    @route.post("/v2.1/os-aggregates/{aggregate_id}/images", policy="compute:aggregates:images",
                body=schemas.IMAGES, status=202, since="2.81")
    def images(self, req: ApiRequest) -> Response:
        req.authorize(target={})
        aggregate_id = req.path_params["aggregate_id"]
        try:
            int(aggregate_id)
        except ValueError:
            raise errors.AggregateIdNotInteger() from None
        image_ids = [item["id"] for item in req.data["cache"]]
        if len(set(image_ids)) != len(image_ids):
            raise errors.DuplicateCacheImages()
        aggregate = self.compute.aggregates.get(aggregate_id)
        nodes = {node.host: node for node in self.compute.hosts.list()}
        for host in aggregate.hosts:
            node = nodes.get(host)
            if node is not None and self.compute.hosts.is_up(node):
                self.compute.rpc.cache_images(host, image_ids)
        return Response(status_code=202)
