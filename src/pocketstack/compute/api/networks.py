"""``/os-networks`` and ``/os-tenant-networks``: Nova's read-only proxy of the networks
the caller can see in the network service (deprecated, gone from microversion 2.36).

``label`` is the network's name and ``cidr`` its first subnet's; the nova-network
fields ``/os-networks`` still carries (bridge, vlan, dhcp_start, …) have no meaning
with Neutron and are null, as Nova shows them.
"""

from __future__ import annotations

from starlette.datastructures import QueryParams

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import Router
from pocketstack.common.errors import NotFound
from pocketstack.compute.api.common import at_least

_NOVA_NETWORK_FIELDS = ("netmask", "gateway", "broadcast", "dns1", "dns2", "cidr_v6", "gateway_v6", "netmask_v6",
                        "bridge", "bridge_interface", "vlan", "dhcp_start", "vpn_public_address", "vpn_public_port",
                        "vpn_private_address", "host", "multi_host", "priority", "rxtx_base", "injected",
                        "dhcp_server", "share_address", "created_at", "updated_at", "deleted_at")


def register(router: Router, compute) -> None:
    def network(req: ApiRequest):
        manager = compute.network()
        if at_least(req, 2, 36) or manager is None:
            raise NotFound("The resource could not be found.")
        return manager

    def cidrs(req: ApiRequest, network_ids: list[str]) -> dict[str, str]:
        subnets, _ = network(req).list(req.context, "subnets", QueryParams([("network_id", n) for n in network_ids]))
        first: dict[str, str] = {}
        for subnet in subnets:
            first.setdefault(subnet["network_id"], subnet["cidr"])
        return first

    def visible(req: ApiRequest, network_id: str | None = None) -> list[dict]:
        query = QueryParams([("id", network_id)] if network_id else [])
        found, _ = network(req).list(req.context, "networks", query)
        if network_id and not found:
            raise NotFound(f"Network {network_id} could not be found.")
        return found

    def short(net: dict, cidr: str | None) -> dict:
        return {"id": net["id"], "label": net["name"], "cidr": cidr}

    def full(net: dict, cidr: str | None) -> dict:
        return {**short(net, cidr), "project_id": net["project_id"], "mtu": net.get("mtu"),
                "enable_dhcp": None, "deleted": False, **{name: None for name in _NOVA_NETWORK_FIELDS}}

    def listing(req: ApiRequest, render, rule: str) -> dict:
        req.authorize(rule, {"project_id": req.context.project_id})
        nets = visible(req)
        first = cidrs(req, [n["id"] for n in nets]) if nets else {}
        return {"networks": [render(n, first.get(n["id"])) for n in nets]}

    def showing(req: ApiRequest, render, rule: str) -> dict:
        req.authorize(rule, {"project_id": req.context.project_id})
        net, = visible(req, req.path_params["network_id"])
        return {"network": render(net, cidrs(req, [net["id"]]).get(net["id"]))}

    @router.get("/v2.1/os-networks")
    def list_networks(req: ApiRequest):
        return listing(req, full, "os_compute_api:os-networks:list")

    @router.get("/v2.1/os-networks/{network_id}")
    def show_network(req: ApiRequest):
        return showing(req, full, "os_compute_api:os-networks:view")

    @router.get("/v2.1/os-tenant-networks")
    def list_tenant_networks(req: ApiRequest):
        return listing(req, short, "os_compute_api:os-tenant-networks:list")

    @router.get("/v2.1/os-tenant-networks/{network_id}")
    def show_tenant_network(req: ApiRequest):
        return showing(req, short, "os_compute_api:os-tenant-networks:show")
