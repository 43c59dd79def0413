"""``/os-networks`` and ``/os-tenant-networks``: Nova's read-only proxy of the networks
the caller can see in the network service (deprecated, gone from microversion 2.36).

``label`` is the network's name and ``cidr`` its first subnet's; the nova-network
fields ``/os-networks`` still carries (bridge, vlan, dhcp_start, …) have no meaning
with Neutron and are null, as Nova shows them.
"""

from __future__ import annotations

from starlette.datastructures import QueryParams

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.compute import errors

_NOVA_NETWORK_FIELDS = ("netmask", "gateway", "broadcast", "dns1", "dns2", "cidr_v6", "gateway_v6", "netmask_v6",
                        "bridge", "bridge_interface", "vlan", "dhcp_start", "vpn_public_address", "vpn_public_port",
                        "vpn_private_address", "host", "multi_host", "priority", "rxtx_base", "injected",
                        "dhcp_server", "share_address", "created_at", "updated_at", "deleted_at")


def short(net: dict, cidr: str | None) -> dict:
    """An ``/os-tenant-networks`` entry."""
    return {"id": net["id"], "label": net["name"], "cidr": cidr}


def full(net: dict, cidr: str | None) -> dict:
    """An ``/os-networks`` entry: the nova-network fields null."""
    return {**short(net, cidr), "project_id": net["project_id"], "mtu": net.get("mtu"),
            "enable_dhcp": None, "deleted": False, **{name: None for name in _NOVA_NETWORK_FIELDS}}


def first_cidrs(subnets: list[dict]) -> dict[str, str]:
    """Each network's first subnet's CIDR."""
    first: dict[str, str] = {}
    for subnet in subnets:
        first.setdefault(subnet["network_id"], subnet["cidr"])
    return first


class NetworksApi:
    """Both proxies; every rule is checked against the caller's own project, then the
    network service (gone from 2.36: 404 after the policy check, as today)."""

    def __init__(self, compute):
        self.compute = compute

    def network(self, req: ApiRequest):
        manager = self.compute.cloud.network
        if req.at_least(2, 36) or manager is None:
            raise errors.ProxyGone()
        return manager

    def cidrs(self, req: ApiRequest, network_ids: list[str]) -> dict[str, str]:
        subnets, _ = self.network(req).list(req.caller, "subnets",
                                            QueryParams([("network_id", n) for n in network_ids]))
        return first_cidrs(subnets)

    def visible(self, req: ApiRequest, network_id: str | None = None) -> list[dict]:
        query = QueryParams([("id", network_id)] if network_id else [])
        found, _ = self.network(req).list(req.caller, "networks", query)
        if network_id and not found:
            raise errors.NetworkNotFound(network_id=network_id)
        return found

    def listing(self, req: ApiRequest, render) -> dict:
        req.authorize(target={"project_id": req.caller.project_id})
        nets = self.visible(req)
        first = self.cidrs(req, [n["id"] for n in nets]) if nets else {}
        return {"networks": [render(n, first.get(n["id"])) for n in nets]}

    def showing(self, req: ApiRequest, render) -> dict:
        req.authorize(target={"project_id": req.caller.project_id})
        net, = self.visible(req, req.path_params["network_id"])
        return {"network": render(net, self.cidrs(req, [net["id"]]).get(net["id"]))}

    @route.get("/v2.1/os-networks", policy="os_compute_api:os-networks:list")
    def index(self, req: ApiRequest) -> dict:
        return self.listing(req, full)

    @route.get("/v2.1/os-networks/{network_id}", policy="os_compute_api:os-networks:view")
    def show(self, req: ApiRequest) -> dict:
        return self.showing(req, full)

    @route.get("/v2.1/os-tenant-networks", policy="os_compute_api:os-tenant-networks:list")
    def tenant_index(self, req: ApiRequest) -> dict:
        return self.listing(req, short)

    @route.get("/v2.1/os-tenant-networks/{network_id}", policy="os_compute_api:os-tenant-networks:show")
    def tenant_show(self, req: ApiRequest) -> dict:
        return self.showing(req, short)
