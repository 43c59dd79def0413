"""``/v3/regions``, ``/v3/services`` and ``/v3/endpoints``."""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import Router
from pocketstack.common.errors import Conflict, NotFound
from pocketstack.identity.api import render, schemas
from pocketstack.identity.api.common import body, filters, split_extra
from pocketstack.identity.manager import Identity

REGION_FIELDS = {"id", "parent_region_id", "description"}
SERVICE_FIELDS = {"type", "name", "enabled", "description"}
ENDPOINT_FIELDS = {"service_id", "interface", "url", "region_id", "region", "enabled"}


def register(router: Router, identity: Identity) -> None:
    catalog = identity.catalog

    # -- regions ---------------------------------------------------------------------
    @router.get("/v3/regions")
    def list_regions(req: ApiRequest):
        req.authorize("identity:list_regions")
        regions = catalog.list_regions(filters(req, ("parent_region_id",)))
        return render.collection(req.service_url, "regions", "regions",
                                 [render.region(req.service_url, r) for r in regions])

    def create_region(req: ApiRequest, region_id: str | None = None):
        req.authorize("identity:manage_regions")
        own, extra = split_extra(body(req, schemas.region_create, "region"), REGION_FIELDS)
        region = catalog.create_region(region_id=region_id or own.get("id"),
                                       parent_region_id=own.get("parent_region_id"),
                                       description=own.get("description") or "", extra=extra)
        return json_response({"region": render.region(req.service_url, region)}, status=201)

    router.post("/v3/regions")(create_region)

    @router.put("/v3/regions/{region_id}")
    def put_region(req: ApiRequest):
        return create_region(req, req.path_params["region_id"])

    @router.get("/v3/regions/{region_id}")
    def get_region(req: ApiRequest):
        req.authorize("identity:get_region")
        return {"region": render.region(req.service_url, catalog.get_region(req.path_params["region_id"]))}

    @router.patch("/v3/regions/{region_id}")
    def update_region(req: ApiRequest):
        req.authorize("identity:manage_regions")
        own, extra = split_extra(body(req, schemas.region_update, "region"), REGION_FIELDS)
        if extra:
            own["extra"] = extra
        return {"region": render.region(req.service_url, catalog.update_region(req.path_params["region_id"], own))}

    @router.delete("/v3/regions/{region_id}")
    def delete_region(req: ApiRequest):
        req.authorize("identity:manage_regions")
        catalog.delete_region(req.path_params["region_id"])

    # -- services --------------------------------------------------------------------
    @router.get("/v3/services")
    def list_services(req: ApiRequest):
        req.authorize("identity:list_services")
        services = catalog.list_services(filters(req, ("type", "name")))
        return render.collection(req.service_url, "services", "services",
                                 [render.service(req.service_url, sv) for sv in services])

    @router.post("/v3/services")
    def create_service(req: ApiRequest):
        req.authorize("identity:manage_services")
        own, extra = split_extra(body(req, schemas.service_create, "service"), SERVICE_FIELDS)
        service = catalog.create_service(type=own["type"], name=own.get("name") or "",
                                         enabled=own.get("enabled", True),
                                         description=own.get("description") or "", extra=extra)
        return json_response({"service": render.service(req.service_url, service)}, status=201)

    @router.get("/v3/services/{service_id}")
    def get_service(req: ApiRequest):
        req.authorize("identity:get_service")
        return {"service": render.service(req.service_url, catalog.get_service(req.path_params["service_id"]))}

    @router.patch("/v3/services/{service_id}")
    def update_service(req: ApiRequest):
        req.authorize("identity:manage_services")
        own, extra = split_extra(body(req, schemas.service_update, "service"), SERVICE_FIELDS)
        if extra:
            own["extra"] = extra
        return {"service": render.service(req.service_url,
                                          catalog.update_service(req.path_params["service_id"], own))}

    @router.delete("/v3/services/{service_id}")
    def delete_service(req: ApiRequest):
        req.authorize("identity:manage_services")
        catalog.delete_service(req.path_params["service_id"])

    # -- endpoints -------------------------------------------------------------------
    def legacy_region(own: dict) -> None:
        """Keystone's v2 compatibility: an endpoint given ``region`` but no ``region_id`` uses that region,
        creating it when it does not exist yet."""
        region_id = own.pop("region", None)
        if own.get("region_id") is None and region_id is not None:
            own["region_id"] = region_id
            try:
                catalog.get_region(region_id)
            except NotFound:
                try:
                    catalog.create_region(region_id=region_id)
                except Conflict:
                    pass  # created concurrently

    @router.get("/v3/endpoints")
    def list_endpoints(req: ApiRequest):
        req.authorize("identity:list_endpoints")
        wanted = filters(req, ("interface", "service_id", "region_id", "enabled"))
        return render.collection(req.service_url, "endpoints", "endpoints",
                                 [render.endpoint(req.service_url, e) for e in catalog.list_endpoints(wanted)])

    @router.post("/v3/endpoints")
    def create_endpoint(req: ApiRequest):
        req.authorize("identity:manage_endpoints")
        own, extra = split_extra(body(req, schemas.endpoint_create, "endpoint"), ENDPOINT_FIELDS)
        legacy_region(own)
        endpoint = catalog.create_endpoint(service_id=own["service_id"], interface=own["interface"], url=own["url"],
                                           region_id=own.get("region_id"),
                                           enabled=own.get("enabled", True), extra=extra)
        return json_response({"endpoint": render.endpoint(req.service_url, endpoint)}, status=201)

    @router.get("/v3/endpoints/{endpoint_id}")
    def get_endpoint(req: ApiRequest):
        req.authorize("identity:get_endpoint")
        return {"endpoint": render.endpoint(req.service_url, catalog.get_endpoint(req.path_params["endpoint_id"]))}

    @router.patch("/v3/endpoints/{endpoint_id}")
    def update_endpoint(req: ApiRequest):
        req.authorize("identity:manage_endpoints")
        own, extra = split_extra(body(req, schemas.endpoint_update, "endpoint"), ENDPOINT_FIELDS)
        legacy_region(own)
        if extra:
            own["extra"] = extra
        return {"endpoint": render.endpoint(req.service_url,
                                            catalog.update_endpoint(req.path_params["endpoint_id"], own))}

    @router.delete("/v3/endpoints/{endpoint_id}")
    def delete_endpoint(req: ApiRequest):
        req.authorize("identity:manage_endpoints")
        catalog.delete_endpoint(req.path_params["endpoint_id"])
