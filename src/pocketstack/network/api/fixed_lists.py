"""Two read-only lists clients ask for routinely: the service providers
(``/v2.0/service-providers``, the service-type extension; openstacksdk's project cleanup
stops on a 404 there) and the availability zones (``/v2.0/availability_zones``).

Both describe the deployment rather than any project's resources, so they are fixed:
routers are served by one provider, Neutron's ``single_node`` L3 driver (no DVR, no
HA), listed as Neutron lists its built-in L3 providers; there is one zone, ``nova``,
for networks and routers alike -- the zone every network and router shows in its
``availability_zones``.  Any reader may list them (Neutron's ``role:reader``), with
Neutron's list filters (each attribute, repeatable) and ``fields``.
"""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.network.api import render

ZONE = "nova"
SERVICE_PROVIDERS = ({"service_type": "L3_ROUTER_NAT", "name": "single_node", "default": False},)
AVAILABILITY_ZONES = tuple({"name": ZONE, "resource": resource, "state": "available"}
                           for resource in ("network", "router"))


def _listed(req: ApiRequest, items: tuple[dict, ...]) -> list[dict]:
    """The items passing the query's attribute filters (any of a repeated one; booleans
    as ``True``/``true``), with ``fields=`` applied."""
    def passes(item: dict) -> bool:
        return all(not (wanted := req.query.getlist(key)) or str(value).lower() in {w.lower() for w in wanted}
                   for key, value in item.items())
    return [render.select_fields(req, dict(item)) for item in items if passes(item)]


class FixedListsApi:
    @route.get("/v2.0/service-providers", policy="get_service_provider")
    def service_providers(self, req: ApiRequest):
        req.authorize()
        return {"service_providers": _listed(req, SERVICE_PROVIDERS)}

    @route.get("/v2.0/availability_zones", policy="get_availability_zone")
    def availability_zones(self, req: ApiRequest):
        req.authorize()
        return {"availability_zones": _listed(req, AVAILABILITY_ZONES)}
