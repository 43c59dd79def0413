"""Subnets: CIDR and pool validation, gateway, IPv6 modes, prefixes from subnet pools."""

from __future__ import annotations

import ipaddress

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from pocketstack.common.db.cas import cas_update
from pocketstack.network import converters, dhcp_ports, errors, ipam, ports, quota, rbac, segments, store, views
from pocketstack.network.context import Work
from pocketstack.network.models import IpAllocation, Network, Port, Subnet, SubnetPool, Tag

IPV6_MODES = ("slaac", "dhcpv6-stateful", "dhcpv6-stateless")
UPDATABLE = {"name", "description", "gateway_ip", "allocation_pools", "dns_nameservers", "host_routes",
             "enable_dhcp"}


def parse_cidr(cidr: str, version: int | None = None, *,
               strict: bool = True) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """A canonical network; 400 ``InvalidCIDR`` for anything else.  With ``strict``
    (routes), host bits set are refused too; without, they are dropped."""
    try:
        net = ipaddress.ip_network(cidr, strict=strict)
    except (ValueError, TypeError):
        raise errors.InvalidCIDR(input=cidr) from None
    if version is not None and net.version != version:
        raise errors.InvalidCIDRForVersion(input=cidr, version=version)
    return net


def network_of(cidr: str, version: int | None = None) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """A subnet's or a pool prefix's CIDR as Neutron stores it: ``10.99.99.0/16`` is
    ``10.99.0.0/16`` (its IPAM takes the network of whatever address is given)."""
    return parse_cidr(cidr, version, strict=False)


def _ip(value: object, what: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(value)  # type: ignore[arg-type]  # anything else is refused below
    except (ValueError, TypeError):
        raise errors.InvalidInput(error_message=f"'{value}' is not a valid IP address for {what}") from None


def default_gateway(net) -> str | None:
    if net.num_addresses < 2:
        return None
    return str(net.network_address + 1)


def default_pools(net, gateway: str | None) -> list[dict]:
    """Every host address of the subnet but the gateway, as Neutron computes them."""
    first = int(net.network_address) + 1
    last = int(net.broadcast_address) - (1 if net.version == 4 else 0)
    if net.version == 4 and net.prefixlen >= 31:
        first, last = int(net.network_address), int(net.broadcast_address)
    ranges = [(first, last)]
    if gateway is not None:
        gw = int(ipaddress.ip_address(gateway))
        ranges = [r for part in ((first, gw - 1), (gw + 1, last)) for r in [part] if r[0] <= r[1]] \
            if first <= gw <= last else ranges
    cls = ipaddress.IPv4Address if net.version == 4 else ipaddress.IPv6Address
    return [{"start": str(cls(a)), "end": str(cls(b))} for a, b in ranges if a <= b]


def check_pools(net, pools: list[dict], gateway: str | None) -> list[dict]:
    """Validate explicit allocation pools: inside the subnet, ordered, disjoint, gateway-free."""
    parsed = []
    for pool in pools:
        start, end = _ip(pool.get("start"), "allocation_pools"), _ip(pool.get("end"), "allocation_pools")
        text = f"{pool['start']}-{pool['end']}"
        if start.version != net.version or end.version != net.version or int(start) > int(end):
            raise errors.InvalidAllocationPool(pool=text)
        if start not in net or end not in net or start == net.network_address or (
                net.version == 4 and net.prefixlen < 31 and end == net.broadcast_address):
            raise errors.OutOfBoundsAllocationPool(pool=text, subnet_cidr=net)
        parsed.append((start, end, text))
    parsed.sort(key=lambda p: (int(p[0]), int(p[1]), p[2]))  # one IP version: the subnet's
    for (_, e1, t1), (s2, _, t2) in zip(parsed, parsed[1:]):
        if int(s2) <= int(e1):
            raise errors.OverlappingAllocationPools(pool_1=t1, pool_2=t2, subnet_cidr=net)
    if gateway is not None:
        gw = ipaddress.ip_address(gateway)
        for start, end, text in parsed:
            if gw.version == start.version and int(start) <= int(gw) <= int(end):
                raise errors.GatewayConflictWithAllocationPools(ip_address=gateway, pool=text)
    return [{"start": str(s), "end": str(e)} for s, e, _ in parsed]


def _check_gateway(net, gateway: str | None) -> str | None:
    """Neutron's rule: the subnet's IP version; outside the subnet is allowed (the
    gateway is then assumed on link); inside an IPv4 subnet, not its network or
    broadcast address."""
    if gateway is None:
        return None
    address = _ip(gateway, "gateway_ip")
    if address.version != net.version:
        raise errors.InvalidInput(error_message=f"gateway_ip '{gateway}' does not match the ip_version "
                                                 f"'{net.version}'")
    if net.version == 4 and address in (net.network_address, net.broadcast_address):
        raise errors.InvalidInput(error_message="Gateway is not valid on subnet")
    return str(address)


def _check_lists(net, attrs: dict) -> None:
    for server in attrs.get("dns_nameservers") or []:
        _ip(server, "dns_nameservers")
    for route in attrs.get("host_routes") or []:
        parse_cidr(route.get("destination", ""))
        _ip(route.get("nexthop"), "host_routes")


def _check_ipv6_modes(version: int, attrs: dict, net) -> None:
    ra, address = attrs.get("ipv6_ra_mode"), attrs.get("ipv6_address_mode")
    for mode in (ra, address):
        if mode is not None and mode not in IPV6_MODES:
            raise errors.InvalidInput(error_message=f"'{mode}' is not in {list(IPV6_MODES)}")
    if version == 4 and (ra or address):
        raise errors.InvalidInput(error_message="ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp "
                                                 "is set to False or ip_version is 4")
    if ra and address and ra != address:
        raise errors.InvalidInput(error_message=f"ipv6_ra_mode set to '{ra}' with ipv6_address_mode set to "
                                                 f"'{address}' is not valid. If both attributes are set, they must "
                                                 "be the same value")
    if (address or ra) in ("slaac", "dhcpv6-stateless") and net.prefixlen != 64:
        raise errors.InvalidInput(error_message=f"Invalid CIDR {net} for IPv6 address mode. OpenStack uses the "
                                                 "EUI-64 address format, which requires the prefix to be /64")


def _check_pool_affinity(w: Work, network_id: str, version: int, pool: SubnetPool | None) -> None:
    """Neutron's ``_validate_network_subnetpools``: a network's subnets of one IP version
    all come from one subnet pool (or none), or, once the network is in an address scope,
    from pools of that scope."""
    scope = views.address_scopes_of(w.s, [network_id]).get((network_id, version))
    if scope and (pool is None or pool.address_scope_id != scope):
        raise errors.NetworkAddressScopeAffinityError()
    for other in w.s.scalars(sa.select(Subnet.subnetpool_id).where(Subnet.network_id == network_id,
                                                                   Subnet.ip_version == version)):
        if (other != pool.id and not scope) if pool is not None else other is not None:
            raise errors.NetworkSubnetPoolAffinityError()


def _prefix_from_pool(w: Work, attrs: dict, version: int, network_id: str) -> tuple[str, str]:
    """Claim a prefix from the subnet pool by compare-and-swap on the pool's generation."""
    pool = store.fetch(w.s, SubnetPool, w.ctx, attrs["subnetpool_id"])
    rbac.hold_access(w, pool, w.owner(attrs))
    if pool.ip_version != version:
        raise errors.InvalidInput(error_message=f"Cannot allocate IPv{version} subnet from IPv{pool.ip_version} "
                                                 "subnet pool")
    _check_pool_affinity(w, network_id, version, pool)
    if attrs.get("cidr"):
        cidr = str(network_of(attrs["cidr"], version))
        if not ipam.prefix_fits(pool.prefixes, pool.allocated, cidr):
            raise errors.PrefixUnavailable(prefix=cidr, pool_id=pool.id)
    else:
        prefixlen = pool.default_prefixlen
        if attrs.get("prefixlen") is not None:
            prefixlen = converters.non_negative("prefixlen", converters.to_int(attrs["prefixlen"]))
        if not pool.min_prefixlen <= prefixlen <= pool.max_prefixlen:
            raise errors.InvalidInput(error_message=f"prefixlen {prefixlen} must be between {pool.min_prefixlen} "
                                                     f"and {pool.max_prefixlen}")
        chosen = ipam.choose_prefix(pool.prefixes, pool.allocated, prefixlen)
        if chosen is None:
            raise errors.InsufficientPrefixSpace(prefixlen=prefixlen)
        cidr = chosen
    _check_pool_quota(w, pool, w.owner(attrs), cidr)
    cas_update(w.s, SubnetPool, where={"id": pool.id, "generation": pool.generation},
               values={"allocated": pool.allocated + [cidr], "generation": pool.generation + 1})
    return cidr, pool.id


def _check_pool_quota(w: Work, pool: SubnetPool, project_id: str, cidr: str) -> None:
    """409 when the project's subnets from the pool would exceed its ``default_quota``
    (the CAS on the pool's generation that follows serialises racing allocations)."""
    if not pool.default_quota:
        return  # Neutron: no limit, and 0 is none too
    used = w.s.scalars(sa.select(Subnet.cidr).where(Subnet.subnetpool_id == pool.id, Subnet.project_id == project_id))
    units = sum(ipam.quota_units(pool.ip_version, ipaddress.ip_network(c).prefixlen) for c in used)
    if units + ipam.quota_units(pool.ip_version, ipaddress.ip_network(cidr).prefixlen) > pool.default_quota:
        raise errors.SubnetPoolQuotaExceeded()


def _default_pool(w: Work, version: int) -> str:
    pool_id = w.s.scalar(sa.select(SubnetPool.id).where(
        SubnetPool.is_default.is_(True), SubnetPool.ip_version == version,
        store.visible_clause(SubnetPool, w.ctx)).order_by(SubnetPool.created_at).limit(1))
    if pool_id is None:
        raise errors.DefaultSubnetPoolNotFound(version=version)
    return pool_id


def release_prefix(w: Work, subnet: Subnet) -> None:
    if not subnet.subnetpool_id:
        return
    pool = w.s.get(SubnetPool, subnet.subnetpool_id)
    if pool is None or subnet.cidr not in pool.allocated:
        return
    cas_update(w.s, SubnetPool, where={"id": pool.id, "generation": pool.generation},
               values={"allocated": [c for c in pool.allocated if c != subnet.cidr],
                       "generation": pool.generation + 1})


def create(w: Work, attrs: dict) -> Subnet:
    network = store.fetch(w.s, Network, w.ctx, attrs["network_id"])
    version = int(attrs["ip_version"])
    if attrs.get("use_default_subnetpool") and not attrs.get("subnetpool_id"):
        attrs = dict(attrs, subnetpool_id=_default_pool(w, version))
    if attrs.get("subnetpool_id"):
        cidr, pool_id = _prefix_from_pool(w, attrs, version, network.id)
    else:
        if not attrs.get("cidr"):
            raise errors.CidrRequired()
        _check_pool_affinity(w, network.id, version, None)
        cidr, pool_id = str(network_of(attrs["cidr"], version)), None
    net = ipaddress.ip_network(cidr)
    for other in w.s.scalars(sa.select(Subnet.cidr).where(Subnet.network_id == network.id)):
        if net.overlaps(ipaddress.ip_network(other)):
            raise errors.InvalidInput(error_message=f"Requested subnet with cidr: {cidr} for network: {network.id} "
                                                     "overlaps with another subnet")
    gateway = _check_gateway(net, attrs["gateway_ip"] if "gateway_ip" in attrs else default_gateway(net))
    pools = (check_pools(net, attrs["allocation_pools"], gateway) if attrs.get("allocation_pools")
             else default_pools(net, gateway))
    _check_ipv6_modes(version, attrs, net)
    _check_lists(net, attrs)
    if network.mtu:
        segments.check_subnet_mtu(network.id, network.mtu, [version])
    project_id = w.owner(attrs)
    row = Subnet(project_id=project_id, network_id=network.id, name=attrs.get("name") or "",
                 description=attrs.get("description") or "", ip_version=version, cidr=cidr, gateway_ip=gateway,
                 enable_dhcp=attrs.get("enable_dhcp", True), allocation_pools=pools,
                 dns_nameservers=attrs.get("dns_nameservers") or [], host_routes=attrs.get("host_routes") or [],
                 ipv6_ra_mode=attrs.get("ipv6_ra_mode"), ipv6_address_mode=attrs.get("ipv6_address_mode"),
                 subnetpool_id=pool_id)
    w.s.add(row)
    w.s.flush()
    quota.claim(w, project_id, "subnet", row.id)
    # The overlap check above read the network's subnets: a CAS on the network's revision
    # makes two racing overlapping creates conflict instead of both committing.
    store.bump(w.s, network)
    w.emit("subnet_updated", views.render_one(w.s, row))
    dhcp_ports.sync(w, network)
    return row


def update(w: Work, subnet_id: str, attrs: dict, revision: int | None = None) -> Subnet:
    row = store.fetch(w.s, Subnet, w.ctx, subnet_id)
    store.check_updatable(attrs, UPDATABLE)
    net = ipaddress.ip_network(row.cidr)
    values = dict(attrs)
    for key in ("dns_nameservers", "host_routes"):  # Neutron's convert_none_to_empty_list
        if key in values and values[key] is None:
            values[key] = []
    if "gateway_ip" in attrs:
        values["gateway_ip"] = _check_gateway(net, attrs["gateway_ip"])
        if values["gateway_ip"] != row.gateway_ip:
            _check_gateway_unused(w, row)
    gateway = values.get("gateway_ip", row.gateway_ip)
    if "allocation_pools" in attrs:
        values["allocation_pools"] = check_pools(net, attrs["allocation_pools"] or [], gateway)
    elif "gateway_ip" in attrs:
        check_pools(net, row.allocation_pools, gateway)
    _check_lists(net, attrs)
    store.update_row(w.s, row, values, revision)
    w.emit("subnet_updated", views.render_one(w.s, row))
    if "enable_dhcp" in attrs:
        dhcp_ports.sync(w, w.s.get_one(Network, row.network_id))
    return row


def _check_gateway_unused(w: Work, row: Subnet) -> None:
    """Neutron's GatewayIpInUse: the gateway a router interface holds stays until the
    interface goes."""
    if not row.gateway_ip:
        return
    port_id = w.s.scalar(sa.select(Port.id).join(IpAllocation, IpAllocation.port_id == Port.id).where(
        IpAllocation.subnet_id == row.id, IpAllocation.ip_address == row.gateway_ip,
        Port.device_owner.in_(ports.ROUTER_INTERFACE_OWNERS)).limit(1))
    if port_id is not None:
        raise errors.GatewayIpInUse(ip_address=row.gateway_ip, port_id=port_id)


def delete(w: Work, subnet_id: str) -> None:
    row = store.fetch(w.s, Subnet, w.ctx, subnet_id)
    dhcp_ports.sync(w, w.s.get_one(Network, row.network_id), leaving=row.id)  # its address never keeps it in use
    users = list(w.s.execute(sa.select(Port.id, Port.device_owner).join(IpAllocation, IpAllocation.port_id == Port.id)
                             .where(IpAllocation.subnet_id == row.id)))
    if users and ipam.is_auto_address_subnet(row):
        _remove_auto_addresses(w, row, users)
    elif users:
        raise _in_use(row.id)
    rendered = views.render_one(w.s, row)
    try:
        delete_subnet_rows(w, row)
        w.s.flush()
    except sa_exc.IntegrityError:
        raise _in_use(row.id) from None
    store.bump(w.s, w.s.get_one(Network, row.network_id))  # its ``subnets`` changed: a new revision
    w.emit("subnet_deleted", rendered)


def _remove_auto_addresses(w: Work, row: Subnet, users: list) -> None:
    """As Neutron does for a SLAAC / DHCPv6-stateless subnet: the addresses derived on
    ports go with the subnet (the ports stay); a router interface keeps it in use."""
    if any(owner == ports.ROUTER_INTERFACE for _, owner in users):
        raise _in_use(row.id)
    w.s.execute(sa.delete(IpAllocation).where(IpAllocation.subnet_id == row.id))
    for port in list(w.s.scalars(sa.select(Port).where(Port.id.in_({port_id for port_id, _ in users})))):
        store.bump(w.s, port)
        w.emit("port_updated", views.render_one(w.s, port))


def delete_subnet_rows(w: Work, row: Subnet) -> None:
    """Remove a subnet nothing is allocated from; a racing allocation fails the foreign key."""
    release_prefix(w, row)
    quota.release(w.s, [row.id])
    w.s.execute(sa.delete(Tag).where(Tag.resource_id == row.id))
    w.s.execute(sa.delete(Subnet).where(Subnet.id == row.id))


def _in_use(subnet_id: str):
    return errors.SubnetInUse(subnet_id=subnet_id)

