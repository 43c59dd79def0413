"""``/v3/regions``, ``/v3/services`` and ``/v3/endpoints``."""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import route
from pocketstack.identity import errors
from pocketstack.identity import models as m
from pocketstack.identity.api import render, schemas
from pocketstack.identity.api.common import body, split_extra
from pocketstack.identity.api.entities import Family, catalog_rules
from pocketstack.identity.api.users import rendered
from pocketstack.identity.catalog import CatalogManager
from pocketstack.identity.manager import Identity

REGION_FIELDS = frozenset({"id", "parent_region_id", "description"})
SERVICE_FIELDS = frozenset({"type", "name", "enabled", "description"})
ENDPOINT_FIELDS = frozenset({"service_id", "interface", "url", "region_id", "region", "enabled"})


def create_region(catalog: CatalogManager, own: dict, extra: dict, region_id: str | None = None) -> m.Region:
    return catalog.create_region(region_id=region_id or own.get("id"), parent_region_id=own.get("parent_region_id"),
                                 description=own.get("description") or "", extra=extra)


def regions(identity: Identity) -> Family:
    catalog = identity.catalog
    return Family(
        key="region", plural="regions", fields=REGION_FIELDS, create_schema=schemas.region_create,
        update_schema=schemas.region_update, rules=catalog_rules("region", "regions"),
        find=catalog.list_regions, fetch=catalog.get_region, add=lambda own, extra: create_region(catalog, own, extra),
        change=catalog.update_region, remove=catalog.delete_region, render=rendered(render.region),
        filters=("parent_region_id",))


def services(identity: Identity) -> Family:
    catalog = identity.catalog

    def add(own: dict, extra: dict) -> m.Service:
        return catalog.create_service(type=own["type"], name=own.get("name") or "", enabled=own.get("enabled", True),
                                      description=own.get("description") or "", extra=extra)

    return Family(
        key="service", plural="services", fields=SERVICE_FIELDS, create_schema=schemas.service_create,
        update_schema=schemas.service_update, rules=catalog_rules("service", "services"),
        find=catalog.list_services, fetch=catalog.get_service, add=add, change=catalog.update_service,
        remove=catalog.delete_service, render=rendered(render.service), filters=("type", "name"))


def legacy_region(catalog: CatalogManager, own: dict) -> dict:
    """Keystone's v2 compatibility: an endpoint given ``region`` but no ``region_id`` uses
    that region, creating it when it does not exist yet.  Returns ``own`` without ``region``."""
    region_id = own.pop("region", None)
    if own.get("region_id") is None and region_id is not None:
        own["region_id"] = region_id
        try:
            catalog.get_region(region_id)
        except errors.NotFound:
            try:
                catalog.create_region(region_id=region_id)
            except errors.Conflict:
                pass  # created concurrently
    return own


def endpoints(identity: Identity) -> Family:
    catalog = identity.catalog

    def add(own: dict, extra: dict) -> m.Endpoint:
        legacy_region(catalog, own)
        return catalog.create_endpoint(service_id=own["service_id"], interface=own["interface"], url=own["url"],
                                       region_id=own.get("region_id"), enabled=own.get("enabled", True), extra=extra)

    return Family(
        key="endpoint", plural="endpoints", fields=ENDPOINT_FIELDS, create_schema=schemas.endpoint_create,
        update_schema=schemas.endpoint_update, rules=catalog_rules("endpoint", "endpoints"),
        find=catalog.list_endpoints, fetch=catalog.get_endpoint, add=add,
        change=lambda endpoint_id, own: catalog.update_endpoint(endpoint_id, legacy_region(catalog, own)),
        remove=catalog.delete_endpoint, render=rendered(render.endpoint),
        filters=("interface", "service_id", "region_id", "enabled"))


class RegionIdApi:
    """``PUT /v3/regions/{region_id}``: create a region with the id the caller chose."""

    def __init__(self, identity: Identity):
        self.catalog = identity.catalog

    @route.put("/v3/regions/{region_id}", policy="identity:manage_regions")
    def create(self, req: ApiRequest):
        req.authorize()
        own, extra = split_extra(body(req, schemas.region_create, "region"), REGION_FIELDS)
        region = create_region(self.catalog, own, extra, req.path_params["region_id"])
        return json_response({"region": render.region(req.service_url, region)}, status=201)
