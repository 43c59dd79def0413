"""``/os-floating-ips``, ``/os-floating-ip-pools`` and the addFloatingIp /
removeFloatingIp server actions: Nova's proxy of Networking floating IPs (deprecated,
gone from microversion 2.36).

A pool is an external network, named by its name (or id); a floating IP shows its pool's
name, the fixed IP it is associated with and the server owning that fixed IP's port.
Everything is done by the network service with the caller's own credentials; Neutron's
refusals become Nova's answers (over quota 403, an exhausted pool 404).
"""

from __future__ import annotations

import ipaddress
import uuid

from starlette.datastructures import QueryParams
from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.common.errors import ApiError, BadRequest, Conflict, NotFound
from pocketstack.common.validation import validate
from pocketstack.compute import errors
from pocketstack.compute.api.common import get_instance
from pocketstack.compute.api.schemas import floating_ips as schemas


def _ip(value: str, name: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise errors.InvalidIpAddress(name=name, value=value) from None


def _network(compute, req: ApiRequest):
    """The network service's manager; 404 from 2.36 on, or without a network service."""
    manager = compute.cloud.network
    if req.at_least(2, 36) or manager is None:
        raise errors.ProxyGone()
    return manager


def _by_address(compute, req: ApiRequest, address: str) -> dict:
    found, _ = _network(compute, req).list(req.caller, "floatingips",
                                           QueryParams([("floating_ip_address", address)]))
    if not found:
        raise errors.FloatingIpNotFoundForAddress(address=address)
    return found[0]


def server_action(compute, record, req: ApiRequest, args, *, add: bool):
    """addFloatingIp (to the given fixed address, or the server's first IPv4 one; an IP
    associated elsewhere moves here, as Neutron allows) and removeFloatingIp (409 when the
    IP is not associated with this server)."""
    rule = "os_compute_api:os-floating-ips:add" if add else "os_compute_api:os-floating-ips:remove"
    args = validate(args, schemas.ADD if add else schemas.REMOVE)
    address = _ip(args["address"], "address")
    fixed = _ip(args["fixed_address"], "fixed_address") if "fixed_address" in args else None
    inst = get_instance(compute, req, req.path_params["server_id"], rule)
    network = _network(compute, req)
    fip = _by_address(compute, req, address)
    ports = network.list_instance_ports(inst.id)  # the server's: the ones compute bound
    if not add:
        if fip["port_id"] is None or fip["port_id"] not in {p["id"] for p in ports}:
            raise errors.FloatingIpNotAssociated(address=address, instance_id=inst.id)
        network.update(req.caller, "floatingips", fip["id"], {"port_id": None})
        record(req, inst, "removeFloatingIp")
        return Response(status_code=202)
    fixed_ips = [(p["id"], ip["ip_address"]) for p in ports for ip in p["fixed_ips"]]
    if not fixed_ips:
        raise errors.NoFixedIps()
    if fixed is not None:
        chosen = next((pair for pair in fixed_ips if pair[1] == fixed), None)
        if chosen is None:
            raise errors.FixedIpNotOnInstance()
    else:
        chosen = next((pair for pair in fixed_ips if ipaddress.ip_address(pair[1]).version == 4), None)
        if chosen is None:
            raise errors.NoFixedIpv4(address=address, instance_id=inst.id)
    try:
        network.update(req.caller, "floatingips", fip["id"],
                       {"port_id": chosen[0], "fixed_ip_address": chosen[1]})
    except (BadRequest, Conflict, NotFound) as error:
        raise errors.FloatingIpAssociateFailed(address=address, fixed=chosen[1], instance_id=inst.id,
                                               error=error.message) from None
    record(req, inst, "addFloatingIp")
    return Response(status_code=202)


RULE = "os_compute_api:os-floating-ips:{}"


def pool_for(candidates: list[dict], name: str | None) -> dict:
    """The external network named (or with the id) ``name`` among ``candidates``; with no
    pool given, the cloud's only external network (Nova's ``default_floating_pool``)."""
    if name is None:
        if len(candidates) == 1:
            return candidates[0]
        raise errors.FloatingIpPoolNotFound()
    matches = [n for n in candidates if name in (n["name"], n["id"])]
    if len(matches) > 1:
        raise errors.FloatingIpPoolAmbiguous(name=name)
    if not matches:
        raise errors.FloatingIpPoolNotFound()
    return matches[0]


class FloatingIpsApi:
    """The proxy: every rule is checked against the caller's own project, then the
    network service (gone from 2.36: 404 after the policy check, as today)."""

    def __init__(self, compute):
        self.compute = compute

    def network(self, req: ApiRequest):
        return _network(self.compute, req)

    @staticmethod
    def authorize(req: ApiRequest) -> None:
        req.authorize(target={"project_id": req.caller.project_id})

    def pools(self, req: ApiRequest) -> list[dict]:
        found, _ = self.network(req).list(req.caller, "networks", QueryParams([("router:external", "true")]))
        return found

    def pool_names(self, req: ApiRequest, network_ids: set[str]) -> dict[str, str]:
        if not network_ids:
            return {}
        found, _ = self.network(req).list(req.caller, "networks",
                                          QueryParams([("id", n) for n in sorted(network_ids)]))
        return {n["id"]: n["name"] for n in found}

    def instance_ids(self, req: ApiRequest, port_ids: set[str]) -> dict[str, str | None]:
        if not port_ids:
            return {}
        found, _ = self.network(req).list(req.caller, "ports", QueryParams([("id", p) for p in sorted(port_ids)]))
        return {p["id"]: p["device_id"] or None for p in found}

    def render_many(self, req: ApiRequest, fips: list[dict]) -> list[dict]:
        names = self.pool_names(req, {f["floating_network_id"] for f in fips})
        servers = self.instance_ids(req, {f["port_id"] for f in fips if f["port_id"]})
        return [{"id": f["id"], "ip": f["floating_ip_address"], "pool": names.get(f["floating_network_id"]),
                 "fixed_ip": f["fixed_ip_address"], "instance_id": servers.get(f["port_id"])} for f in fips]

    def fetch(self, req: ApiRequest, fip_id: str) -> dict:
        network = self.network(req)
        try:
            uuid.UUID(fip_id)
            return network.get(req.caller, "floatingips", fip_id)
        except (ValueError, NotFound):
            raise errors.FloatingIpNotFound(fip_id=fip_id) from None

    @route.get("/v2.1/os-floating-ips", policy=RULE.format("list"))
    def index(self, req: ApiRequest) -> dict:
        self.authorize(req)
        found, _ = self.network(req).list(req.caller, "floatingips",
                                          QueryParams([("project_id", req.caller.project_id)]))
        return {"floating_ips": self.render_many(req, found)}

    @route.get("/v2.1/os-floating-ips/{fip_id}", policy=RULE.format("show"))
    def show(self, req: ApiRequest) -> dict:
        self.authorize(req)
        return {"floating_ip": self.render_many(req, [self.fetch(req, req.path_params["fip_id"])])[0]}

    # Authorized before the (optional) body is validated: no ``body=``.
    @route.post("/v2.1/os-floating-ips", policy=RULE.format("create"))
    def create(self, req: ApiRequest) -> dict:
        self.authorize(req)
        body = validate(req.json(required=False), schemas.CREATE) or {}
        pool = pool_for(self.pools(req), body.get("pool"))
        try:
            fip = self.network(req).create(req.caller, "floatingips", {"floating_network_id": pool["id"]})
        except ApiError as error:
            if error.error_type == "OverQuota":
                raise errors.FloatingIpLimitExceeded() from None
            if error.error_type == "IpAddressGenerationFailure":
                raise errors.NoMoreFloatingIps(pool=pool["name"]) from None
            raise
        return {"floating_ip": self.render_many(req, [fip])[0]}

    @route.delete("/v2.1/os-floating-ips/{fip_id}", policy=RULE.format("delete"))
    def delete(self, req: ApiRequest) -> Response:
        self.authorize(req)
        fip = self.fetch(req, req.path_params["fip_id"])
        self.network(req).delete(req.caller, "floatingips", fip["id"])
        return Response(status_code=202)

    @route.get("/v2.1/os-floating-ip-pools", policy="os_compute_api:os-floating-ip-pools")
    def pools_index(self, req: ApiRequest) -> dict:
        self.authorize(req)
        return {"floating_ip_pools": [{"name": n["name"]} for n in self.pools(req)]}
