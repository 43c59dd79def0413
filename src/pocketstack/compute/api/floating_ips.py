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
from pocketstack.common.api.routes import Router
from pocketstack.common.api.validation import validate
from pocketstack.common.errors import ApiError, BadRequest, Conflict, Forbidden, NotFound
from pocketstack.compute.api.common import at_least, get_instance

_ADDRESS = {"type": "string", "minLength": 1}
CREATE = {"type": ["object", "null"], "properties": {"pool": {"type": ["string", "null"]}}}
ADD = {"type": "object", "required": ["address"], "additionalProperties": False,
       "properties": {"address": _ADDRESS, "fixed_address": _ADDRESS}}
REMOVE = {"type": "object", "required": ["address"], "additionalProperties": False,
          "properties": {"address": _ADDRESS}}


def _ip(value: str, name: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise BadRequest(f"Invalid input for field/attribute {name}. Value: {value}. "
                         f"'{value}' is not a 'ip-address'") from None


def _network(compute, req: ApiRequest):
    """The network service's manager; 404 from 2.36 on, or without a network service."""
    manager = compute.network()
    if at_least(req, 2, 36) or manager is None:
        raise NotFound("The resource could not be found.")
    return manager


def _by_address(compute, req: ApiRequest, address: str) -> dict:
    found, _ = _network(compute, req).list(req.context, "floatingips",
                                           QueryParams([("floating_ip_address", address)]))
    if not found:
        raise NotFound(f"floating IP not found for address {address}")
    return found[0]


def server_action(compute, record, add: bool):
    """addFloatingIp (to the given fixed address, or the server's first IPv4 one; an IP
    associated elsewhere moves here, as Neutron allows) and removeFloatingIp (409 when the
    IP is not associated with this server)."""
    rule = "os_compute_api:os-floating-ips:add" if add else "os_compute_api:os-floating-ips:remove"

    def handle(req: ApiRequest, args):
        args = validate(args, ADD if add else REMOVE)
        address = _ip(args["address"], "address")
        fixed = _ip(args["fixed_address"], "fixed_address") if "fixed_address" in args else None
        inst = get_instance(compute, req, req.path_params["server_id"], rule)
        network = _network(compute, req)
        fip = _by_address(compute, req, address)
        ports = network.list_instance_ports(inst.id)  # the server's: the ones compute bound
        if not add:
            if fip["port_id"] is None or fip["port_id"] not in {p["id"] for p in ports}:
                raise Conflict(f"Floating IP {address} is not associated with instance {inst.id}.")
            network.update(req.context, "floatingips", fip["id"], {"port_id": None})
            record(req, inst, "removeFloatingIp")
            return Response(status_code=202)
        fixed_ips = [(p["id"], ip["ip_address"]) for p in ports for ip in p["fixed_ips"]]
        if not fixed_ips:
            raise BadRequest("No fixed IPs associated to instance")
        if fixed is not None:
            chosen = next((pair for pair in fixed_ips if pair[1] == fixed), None)
            if chosen is None:
                raise BadRequest("Specified fixed address not assigned to instance")
        else:
            chosen = next((pair for pair in fixed_ips if ipaddress.ip_address(pair[1]).version == 4), None)
            if chosen is None:
                raise BadRequest(f"Unable to associate floating IP {address} to any fixed IPs for instance "
                                 f"{inst.id}. Instance has no fixed IPv4 addresses to associate.")
        try:
            network.update(req.context, "floatingips", fip["id"],
                           {"port_id": chosen[0], "fixed_ip_address": chosen[1]})
        except (BadRequest, Conflict, NotFound) as error:
            raise BadRequest(f"Unable to associate floating IP {address} to fixed IP {chosen[1]} for instance "
                             f"{inst.id}. Error: {error.message}") from None
        record(req, inst, "addFloatingIp")
        return Response(status_code=202)
    return handle


def register(router: Router, compute) -> None:
    def pools(req: ApiRequest) -> list[dict]:
        found, _ = _network(compute, req).list(req.context, "networks", QueryParams([("router:external", "true")]))
        return found

    def pool_names(req: ApiRequest, network_ids: set[str]) -> dict[str, str]:
        if not network_ids:
            return {}
        found, _ = _network(compute, req).list(req.context, "networks",
                                               QueryParams([("id", n) for n in sorted(network_ids)]))
        return {n["id"]: n["name"] for n in found}

    def instance_ids(req: ApiRequest, port_ids: set[str]) -> dict[str, str]:
        if not port_ids:
            return {}
        found, _ = _network(compute, req).list(req.context, "ports",
                                               QueryParams([("id", p) for p in sorted(port_ids)]))
        return {p["id"]: p["device_id"] or None for p in found}

    def render_many(req: ApiRequest, fips: list[dict]) -> list[dict]:
        names = pool_names(req, {f["floating_network_id"] for f in fips})
        servers = instance_ids(req, {f["port_id"] for f in fips if f["port_id"]})
        return [{"id": f["id"], "ip": f["floating_ip_address"], "pool": names.get(f["floating_network_id"]),
                 "fixed_ip": f["fixed_ip_address"], "instance_id": servers.get(f["port_id"])} for f in fips]

    def fetch(req: ApiRequest, fip_id: str) -> dict:
        network = _network(compute, req)
        try:
            uuid.UUID(fip_id)
            return network.get(req.context, "floatingips", fip_id)
        except (ValueError, NotFound):
            raise NotFound(f"Floating IP not found for ID {fip_id}") from None

    def pool_for(req: ApiRequest, name: str | None) -> dict:
        """The external network named (or with the id) ``name``; with no pool given, the
        cloud's only external network (Nova's ``default_floating_pool``)."""
        candidates = pools(req)
        if name is None:
            if len(candidates) == 1:
                return candidates[0]
            raise NotFound("Floating IP pool not found.")
        matches = [n for n in candidates if name in (n["name"], n["id"])]
        if len(matches) > 1:
            raise Conflict(f"Multiple floating IP pools matches found for name '{name}'")
        if not matches:
            raise NotFound("Floating IP pool not found.")
        return matches[0]

    @router.get("/v2.1/os-floating-ips")
    def list_floating_ips(req: ApiRequest):
        req.authorize("os_compute_api:os-floating-ips:list", {"project_id": req.context.project_id})
        found, _ = _network(compute, req).list(req.context, "floatingips",
                                               QueryParams([("project_id", req.context.project_id)]))
        return {"floating_ips": render_many(req, found)}

    @router.get("/v2.1/os-floating-ips/{fip_id}")
    def show_floating_ip(req: ApiRequest):
        req.authorize("os_compute_api:os-floating-ips:show", {"project_id": req.context.project_id})
        return {"floating_ip": render_many(req, [fetch(req, req.path_params["fip_id"])])[0]}

    @router.post("/v2.1/os-floating-ips")
    def create_floating_ip(req: ApiRequest):
        req.authorize("os_compute_api:os-floating-ips:create", {"project_id": req.context.project_id})
        body = validate(req.json(required=False), CREATE) or {}
        pool = pool_for(req, body.get("pool"))
        try:
            fip = _network(compute, req).create(req.context, "floatingips", {"floating_network_id": pool["id"]})
        except ApiError as error:
            if error.error_type == "OverQuota":
                raise Forbidden("Maximum number of floating IPs exceeded") from None
            if error.error_type == "IpAddressGenerationFailure":
                raise NotFound(f"No more floating IPs in pool {pool['name']}.") from None
            raise
        return {"floating_ip": render_many(req, [fip])[0]}

    @router.delete("/v2.1/os-floating-ips/{fip_id}")
    def delete_floating_ip(req: ApiRequest):
        req.authorize("os_compute_api:os-floating-ips:delete", {"project_id": req.context.project_id})
        fip = fetch(req, req.path_params["fip_id"])
        _network(compute, req).delete(req.context, "floatingips", fip["id"])
        return Response(status_code=202)

    @router.get("/v2.1/os-floating-ip-pools")
    def list_pools(req: ApiRequest):
        req.authorize("os_compute_api:os-floating-ip-pools", {"project_id": req.context.project_id})
        return {"floating_ip_pools": [{"name": n["name"]} for n in pools(req)]}
