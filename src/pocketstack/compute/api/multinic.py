"""addFixedIp / removeFixedIp: Nova's multinic server actions (microversions 2.1–2.43; 404
from 2.44, where Nova deprecated them for the Networking API).

addFixedIp gives the server's port on the network one more address (from the network's
first subnet that has one free, as Nova asks Neutron: ``fixed_ips`` + ``{subnet_id}``);
removeFixedIp takes an address off the server's port holding it.  Nova casts both to the
compute host and answers 202 whatever happens there; here the port is updated before the
answer, so what Nova would only log (no port on that network, no such address) is the
answer: 404 and 400, the status codes Nova's API declares for these actions.  The guest
sees the new address through DHCP, as with Nova.
"""

from __future__ import annotations

import ipaddress

from starlette.datastructures import QueryParams
from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.errors import ApiError
from pocketstack.common.validation import validate
from pocketstack.compute import errors
from pocketstack.compute.api.common import check_unlocked, get_instance
from pocketstack.compute.api.schemas import multinic as schemas

RULE = "os_compute_api:os-multinic:{}"


def server_action(compute, record, req: ApiRequest, args, *, add: bool):
    if req.at_least(2, 44):
        raise errors.ProxyGone()
    args = validate(args, schemas.ADD if add else schemas.REMOVE)
    inst = get_instance(compute, req, req.path_params["server_id"], RULE.format("add" if add else "remove"))
    check_unlocked(req, inst)
    network = compute.cloud.network
    if network is None:
        raise errors.NetworkServiceUnavailable()
    ports = network.list_instance_ports(inst.id)
    if add:
        _add(network, req, inst.id, ports, str(args["networkId"]))
    else:
        _remove(network, req, inst.id, ports, args["address"])
    record(req, inst, "addFixedIp" if add else "removeFixedIp")
    return Response(status_code=202)


def _add(network, req: ApiRequest, instance_id: str, ports: list[dict], network_id: str) -> None:
    subnets, _ = network.list(req.caller, "subnets", QueryParams([("network_id", network_id)]))
    on_network = [p for p in ports if p["network_id"] == network_id]
    for port in on_network:
        for subnet in subnets:
            try:
                network.update(req.caller, "ports", port["id"],
                               {"fixed_ips": [*port["fixed_ips"], {"subnet_id": subnet["id"]}]})
                return
            except ApiError:  # that subnet is full (or refuses): Nova tries the next one
                continue
    raise errors.NetworkNotFoundForInstance(instance_id=instance_id)


def _remove(network, req: ApiRequest, instance_id: str, ports: list[dict], address: str) -> None:
    try:
        wanted = ipaddress.ip_address(address)
    except ValueError:
        raise errors.InvalidIpAddress(name="address", value=address) from None
    for port in ports:
        kept = [ip for ip in port["fixed_ips"] if ipaddress.ip_address(ip["ip_address"]) != wanted]
        if len(kept) != len(port["fixed_ips"]):
            network.update(req.caller, "ports", port["id"], {"fixed_ips": kept})
            return
    raise errors.FixedIpNotFoundForInstance(instance_id=instance_id, ip=address)
