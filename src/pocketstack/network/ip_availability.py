"""Network IP availability (Neutron's ``network-ip-availability`` extension): per
network and per subnet, how many addresses the allocation pools hold and how many are
allocated.

Counted as Neutron counts them: ``total_ips`` is the size of the subnet's allocation
pools (the whole CIDR when it has none), ``used_ips`` every allocation on the subnet
(DHCP and router ports included, and addresses outside the pools given explicitly); a
network's figures are its subnets' sums.  Filters are Neutron's: ``network_id``,
``network_name``, ``project_id``/``tenant_id`` and ``ip_version`` (a network with no
subnet of the version asked for is left out); others are ignored.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence

import sqlalchemy as sa

from pocketstack.network.context import Work
from pocketstack.network.models import IpAllocation, Network, Subnet

FILTERS = {"network_id": Network.id, "network_name": Network.name, "project_id": Network.project_id,
           "tenant_id": Network.project_id}


def pool_size(subnet: Subnet) -> int:
    """The addresses of the subnet's allocation pools, or of its CIDR without pools."""
    if not subnet.allocation_pools:
        return ipaddress.ip_network(subnet.cidr).num_addresses
    return sum(int(ipaddress.ip_address(p["end"])) - int(ipaddress.ip_address(p["start"])) + 1
               for p in subnet.allocation_pools)


def availabilities(w: Work, filters: Mapping[str, Sequence[str]]) -> list[dict]:
    """Every network passing ``filters`` (each a list of accepted values), oldest first."""
    conditions = [column.in_(filters[key]) for key, column in FILTERS.items() if filters.get(key)]
    versions = {int(v) for v in filters.get("ip_version") or () if str(v).isdigit()}
    if filters.get("ip_version") and not versions:
        return []
    networks = list(w.s.scalars(sa.select(Network).where(*conditions).order_by(Network.created_at, Network.id)))
    ids = [n.id for n in networks]
    subnets: dict[str, list[Subnet]] = {n: [] for n in ids}
    for subnet in w.s.scalars(sa.select(Subnet).where(Subnet.network_id.in_(ids))
                              .order_by(Subnet.created_at, Subnet.id)):
        if not versions or subnet.ip_version in versions:
            subnets[subnet.network_id].append(subnet)
    used: dict[str, int] = {subnet_id: int(count) for subnet_id, count in w.s.execute(
        sa.select(IpAllocation.subnet_id, sa.func.count()).where(IpAllocation.network_id.in_(ids))
        .group_by(IpAllocation.subnet_id))}
    found = []
    for network in networks:
        if versions and not subnets[network.id]:
            continue
        totals = [(pool_size(s), used.get(s.id, 0)) for s in subnets[network.id]]
        rows = [{"subnet_id": s.id, "subnet_name": s.name, "cidr": s.cidr, "ip_version": s.ip_version,
                 "total_ips": total, "used_ips": in_use} for s, (total, in_use) in zip(subnets[network.id], totals)]
        found.append({"network_id": network.id, "network_name": network.name, "project_id": network.project_id,
                      "tenant_id": network.project_id, "total_ips": sum(t for t, _ in totals),
                      "used_ips": sum(u for _, u in totals), "subnet_ip_availability": rows})
    return found
