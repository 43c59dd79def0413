"""Routers: external gateway, interfaces (by subnet or by port) and static routes.

Interfaces and gateways are ports the router owns (``device_id`` = router id).  Every
change to a router's interfaces bumps its revision by compare-and-swap, so a delete
racing an interface add conflicts and re-runs instead of orphaning the port.
"""

from __future__ import annotations

import ipaddress

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from pocketstack.common.db.cas import ConcurrentUpdate, changed_rows
from pocketstack.network import converters, errors, flavors, ports, quota, scheduling, store, views
from pocketstack.network.context import Work
from pocketstack.network.models import FloatingIp, IpAllocation, Network, Port, Router, Subnet, Tag

INTERFACE = ports.ROUTER_INTERFACE
GATEWAY = ports.ROUTER_GATEWAY
UPDATABLE = {"name", "description", "admin_state_up", "external_gateway_info", "routes"}


def interfaces(w: Work, router_id: str) -> list[Port]:
    return list(w.s.scalars(sa.select(Port).where(Port.device_id == router_id, Port.device_owner == INTERFACE)
                            .order_by(Port.created_at)))


def _interface_subnets(w: Work, router_id: str) -> list[Subnet]:
    ids = [p.id for p in interfaces(w, router_id)]
    if not ids:
        return []
    return list(w.s.scalars(sa.select(Subnet).where(Subnet.id.in_(
        sa.select(IpAllocation.subnet_id).where(IpAllocation.port_id.in_(ids))))))


def emit(w: Work, router: Router) -> None:
    payload = views.render_one(w.s, router)
    payload["interfaces"] = views.ports(w.s, interfaces(w, router.id))
    w.emit("router_updated", payload)


def _set_gateway(w: Work, router: Router, info: dict) -> dict:
    network = store.fetch(w.s, Network, w.ctx, info.get("network_id") or "")
    if not network.external:
        raise errors.BadRouterRequest(msg=f"Network {network.id} is not a valid external network")
    values = {"enable_snat": info.get("enable_snat", True)}
    if router.external_network_id == network.id and "external_fixed_ips" not in info:
        return values
    _clear_gateway(w, router)
    port = ports.create(w, {"network_id": network.id, "project_id": "", "device_owner": GATEWAY,
                            "device_id": router.id, "fixed_ips": info.get("external_fixed_ips")},
                        count_quota=False)
    values.update(gw_port_id=port.id, external_network_id=network.id)
    return values


def _clear_gateway(w: Work, router: Router) -> dict:
    if not router.gw_port_id:
        return {}
    if w.s.scalar(sa.select(sa.func.count()).select_from(FloatingIp).where(FloatingIp.router_id == router.id)):
        raise errors.RouterExternalGatewayInUseByFloatingIp(router_id=router.id, net_id=router.external_network_id)
    port = w.s.get(Port, router.gw_port_id)
    if port is not None:
        ports.remove(w, port)
    return {"gw_port_id": None, "external_network_id": None}


def _check_routes(w: Work, router_id: str, routes: list[dict]) -> list[dict]:
    """Neutron's extraroute rule: each nexthop is on the subnet of one of the router's
    ports (its interfaces or its external gateway) and is none of the router's own
    addresses."""
    addresses = list(w.s.execute(sa.select(IpAllocation.ip_address, Subnet.cidr)
                                 .join(Subnet, Subnet.id == IpAllocation.subnet_id)
                                 .join(Port, Port.id == IpAllocation.port_id).where(Port.device_id == router_id)))
    nets = [ipaddress.ip_network(cidr) for _, cidr in addresses]
    own = {ipaddress.ip_address(ip) for ip, _ in addresses}
    result = []
    for route in routes:
        try:
            destination = ipaddress.ip_network(route["destination"], strict=False)
            nexthop = ipaddress.ip_address(route["nexthop"])
        except (KeyError, ValueError, TypeError):
            raise errors.InvalidInput(error_message=f"Invalid route {route}") from None
        if not any(nexthop in n for n in nets):
            raise errors.InvalidRoutes(routes=routes, reason="the nexthop is not connected with router")
        if nexthop in own:
            raise errors.InvalidRoutes(routes=routes, reason="the nexthop is used by router")
        result.append({"destination": str(destination), "nexthop": str(nexthop)})
    return result


def create(w: Work, attrs: dict) -> Router:
    project_id = w.owner(attrs)
    flavor_id = flavors.router_flavor(w, attrs["flavor_id"]) if attrs.get("flavor_id") else None
    router = Router(project_id=project_id, name=attrs.get("name") or "", description=attrs.get("description") or "",
                    admin_state_up=attrs.get("admin_state_up", True), flavor_id=flavor_id)
    try:
        w.s.add(router)
        w.s.flush()
    except sa_exc.IntegrityError:  # the flavor was deleted meanwhile
        raise errors.FlavorNotFound(id=flavor_id) from None
    quota.claim(w, project_id, "router", router.id)
    if attrs.get("external_gateway_info"):
        for key, value in _set_gateway(w, router, attrs["external_gateway_info"]).items():
            setattr(router, key, value)
        w.s.flush()
        scheduling.host_router_ports(w, router)
    emit(w, router)
    return router


def update(w: Work, router_id: str, attrs: dict, revision: int | None = None) -> Router:
    router = store.fetch(w.s, Router, w.ctx, router_id)
    store.check_updatable(attrs, UPDATABLE)
    values = {k: v for k, v in attrs.items() if k in ("name", "description", "admin_state_up")}
    if "external_gateway_info" in attrs:
        info = attrs["external_gateway_info"]
        values.update(_set_gateway(w, router, info) if info else _clear_gateway(w, router))
    if "routes" in attrs:
        values["routes"] = _check_routes(w, router.id, attrs["routes"] or [])
    store.update_row(w.s, router, values, revision)
    if values.get("gw_port_id"):
        scheduling.host_router_ports(w, router)
    emit(w, router)
    return router


def _route_key(route: object) -> tuple[str, str]:
    """A route of an add/remove_extraroutes body as (destination network, nexthop), in
    the normal form ``_check_routes`` stores."""
    try:
        assert isinstance(route, dict) and set(route) == {"destination", "nexthop"}
        return (str(ipaddress.ip_network(route["destination"], strict=False)),
                str(ipaddress.ip_address(route["nexthop"])))
    except (AssertionError, ValueError, TypeError):
        raise errors.InvalidInput(error_message=f"Invalid route {route}") from None


def change_routes(w: Work, router_id: str, routes: list[dict], add: bool) -> Router:
    """Neutron's extraroute-atomic ``add_extraroutes``/``remove_extraroutes``: the
    router's routes with these added (an exact duplicate is kept once; the same
    destination through another nexthop is another route) or removed (a route that is
    not there is no error: the end state counts), applied as one update of ``routes``, so
    a concurrent change of the router re-runs the whole transaction."""
    router = store.fetch(w.s, Router, w.ctx, router_id)
    current = [(r["destination"], r["nexthop"]) for r in router.routes or []]
    changes = [_route_key(r) for r in routes]
    if add:
        wanted = list(dict.fromkeys(current + changes))
    else:
        wanted = [r for r in current if r not in set(changes)]
    return update(w, router_id, {"routes": [{"destination": d, "nexthop": n} for d, n in wanted]})


def delete(w: Work, router_id: str) -> None:
    router = store.fetch(w.s, Router, w.ctx, router_id)
    if interfaces(w, router.id):
        raise errors.RouterInUse(router_id=router.id)
    rendered = views.render_one(w.s, router)
    _clear_gateway(w, router)
    quota.release(w.s, [router.id])
    w.s.execute(sa.delete(Tag).where(Tag.resource_id == router.id))
    deleted = changed_rows(w.s, sa.delete(Router).where(Router.id == router.id,
                                                        Router.revision_number == router.revision_number))
    if deleted != 1:
        raise ConcurrentUpdate(f"router {router.id} changed while being deleted")
    w.emit("router_deleted", rendered)


def _info(router: Router, port: Port, subnet_ids: list[str]) -> dict:
    return {"id": router.id, "tenant_id": router.project_id, "project_id": router.project_id, "port_id": port.id,
            "network_id": port.network_id, "subnet_id": subnet_ids[0] if subnet_ids else None,
            "subnet_ids": subnet_ids}


def _subnet_ids(w: Work, port_id: str) -> list[str]:
    return list(w.s.scalars(sa.select(IpAllocation.subnet_id).where(IpAllocation.port_id == port_id)
                            .order_by(IpAllocation.id)))


def _interface_info(body: dict, removal: bool) -> tuple[str | None, str | None]:
    """Neutron's ``_validate_interface_info``: a subnet or a port (both only to remove
    one), each a UUID."""
    if not body.get("subnet_id") and not body.get("port_id"):
        raise errors.BadRouterRequest(msg="Either subnet_id or port_id must be specified")
    for key in ("port_id", "subnet_id"):
        if body.get(key) and not converters.is_uuid(body[key]):
            raise errors.BadRouterRequest(msg=f"'{body[key]}' is not a valid UUID")
    if not removal and body.get("subnet_id") and body.get("port_id"):
        raise errors.BadRouterRequest(msg="Cannot specify both subnet-id and port-id")
    return body.get("subnet_id"), body.get("port_id")


def add_interface(w: Work, router_id: str, body: dict) -> dict:
    router = store.fetch(w.s, Router, w.ctx, router_id)
    subnet_id, port_id = _interface_info(body, removal=False)
    attached = _interface_subnets(w, router.id)
    if subnet_id:
        subnet = store.fetch(w.s, Subnet, w.ctx, subnet_id)
        if not subnet.gateway_ip:
            raise errors.BadRouterRequest(msg=f"Subnet {subnet.id} does not have a gateway IP")
        if subnet.project_id != w.ctx.project_id and not w.ctx.is_admin:
            # Neutron (LP-1757482): a shared network's subnet is not another project's to route.
            raise errors.BadRouterRequest(msg=f"Cannot add interface to router because subnet {subnet.id} is not "
                                         "owned by project making the request")
        new_subnets = [subnet]
    else:
        port = store.fetch(w.s, Port, w.ctx, str(port_id))
        if port.device_id:
            raise errors.PortInUse(port_id=port.id, net_id=port.network_id, device_id=port.device_id)
        ids = _subnet_ids(w, port.id)
        if not ids:
            raise errors.BadRouterRequest(msg="Router port must have at least one fixed IP")
        new_subnets = list(w.s.scalars(sa.select(Subnet).where(Subnet.id.in_(ids))))
    for new in new_subnets:
        for old in attached:
            if old.id == new.id:
                raise errors.BadRouterRequest(msg=f"Router already has a port on subnet {new.id}")
            if ipaddress.ip_network(old.cidr).overlaps(ipaddress.ip_network(new.cidr)):
                raise errors.BadRouterRequest(msg=f"Cidr {new.cidr} of subnet {new.id} overlaps with cidr {old.cidr} "
                                                 f"of subnet {old.id}")
    if subnet_id:
        port = ports.create(w, {"network_id": new_subnets[0].network_id, "project_id": router.project_id,
                                "device_owner": INTERFACE, "device_id": router.id,
                                "fixed_ips": [{"subnet_id": subnet_id, "ip_address": new_subnets[0].gateway_ip}]})
    else:
        store.update_row(w.s, port, {"device_owner": INTERFACE, "device_id": router.id, "security_groups": [],
                                     "status": "ACTIVE"})
        w.emit("port_updated", views.render_one(w.s, port))
    scheduling.host_router_ports(w, router)
    store.bump(w.s, router)
    emit(w, router)
    return _info(router, port, _subnet_ids(w, port.id))


def remove_interface(w: Work, router_id: str, body: dict) -> dict:
    router = store.fetch(w.s, Router, w.ctx, router_id)
    subnet_id, port_id = _interface_info(body, removal=True)
    mine = interfaces(w, router.id)
    if port_id:
        port = next((p for p in mine if p.id == port_id), None)
        if port is None:
            raise errors.RouterInterfaceNotFound(router_id=router.id, port_id=port_id)
    else:
        port = next((p for p in mine if subnet_id in _subnet_ids(w, p.id)), None)
        if port is None:
            raise errors.RouterInterfaceNotFoundForSubnet(router_id=router.id, subnet_id=subnet_id)
    subnet_ids = _subnet_ids(w, port.id)
    subnets = list(w.s.scalars(sa.select(Subnet).where(Subnet.id.in_(subnet_ids))))
    nets = [ipaddress.ip_network(s.cidr) for s in subnets]
    for fixed in w.s.scalars(sa.select(FloatingIp.fixed_ip_address).where(FloatingIp.router_id == router.id)):
        if fixed and any(ipaddress.ip_address(fixed) in n for n in nets):
            raise errors.RouterInterfaceInUseByFloatingIP(subnet_ids=", ".join(subnet_ids), router_id=router.id)
    for route in router.routes:
        if any(ipaddress.ip_address(route["nexthop"]) in n for n in nets):
            raise errors.RouterInterfaceInUseByRoute(subnet_id=subnet_ids[0], router_id=router.id)
    info = _info(router, port, subnet_ids)
    ports.remove(w, port)
    store.bump(w.s, router)
    emit(w, router)
    return info
