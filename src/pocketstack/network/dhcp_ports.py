"""The DHCP port of a network, as Neutron's DHCP agent keeps it.

Where a DHCP agent serves the networks (the ``linux`` datapath: ``Env.dhcp_host`` is
set), every network with a DHCP-enabled subnet has one port with ``device_owner``
``network:dhcp`` and ``device_id`` ``dhcp<uuid5(DNS, host)>-<network id>`` (Neutron's
``get_dhcp_agent_device_id``), bound to the host of the network's DHCP agent
(:mod:`.scheduling`; ``Env.dhcp_host`` when no agent can be scheduled), holding an
address on each such subnet: the address the network's dnsmasq answers from.  It
follows the network to another agent.  It is created with the first
DHCP subnet, follows subnets that are added, deleted or have DHCP switched, and goes
with the last one or with the network.  Users see it in ``GET /v2.0/ports`` as they
do on Neutron (Tempest looks for it); it counts against no quota and has no security
group.  Without a DHCP agent (the ``noop`` datapath) no network has one, as on a
Neutron with no DHCP agent running.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from pocketstack.network import ports, scheduling, store, views
from pocketstack.network.context import Work
from pocketstack.network.models import IpAllocation, Network, Port, Subnet

DHCP_OWNER = "network:dhcp"


def device_id(host: str, network_id: str) -> str:
    return f"dhcp{uuid.uuid5(uuid.NAMESPACE_DNS, host)}-{network_id}"


def dhcp_ports(w: Work, network_id: str) -> list[Port]:
    return list(w.s.scalars(sa.select(Port).where(Port.network_id == network_id, Port.device_owner == DHCP_OWNER)))


def sync(w: Work, network: Network, leaving: str | None = None) -> None:
    """Make the network's DHCP port match its DHCP-enabled subnets (but ``leaving``, a
    subnet about to be deleted): created, re-addressed, or deleted."""
    served = [s for s in w.s.scalars(sa.select(Subnet).where(Subnet.network_id == network.id, Subnet.enable_dhcp)
                                     .order_by(Subnet.created_at, Subnet.id)) if s.id != leaving]
    existing = dhcp_ports(w, network.id)
    agent = scheduling.schedule(w, scheduling.NetworkDhcpAgent, network.id) if w.env.dhcp_host and served else None
    host = agent.host if agent is not None else w.env.dhcp_host
    if not host or not served:
        for port in existing:
            ports.remove(w, port)
        return
    if not existing:
        ports.create(w, {"network_id": network.id, "project_id": network.project_id, "device_owner": DHCP_OWNER,
                         "device_id": device_id(host, network.id), "binding:host_id": host,
                         "fixed_ips": [{"subnet_id": s.id} for s in served]}, count_quota=False)
        return
    port = existing[0]
    have = {a.subnet_id: a.ip_address for a in w.s.scalars(sa.select(IpAllocation)
                                                              .where(IpAllocation.port_id == port.id))}
    moved = port.binding_host_id != host
    if set(have) == {s.id for s in served} and not moved:
        return
    if set(have) != {s.id for s in served}:
        wanted = [{"subnet_id": s.id, **({"ip_address": have[s.id]} if s.id in have else {})} for s in served]
        ports.replace_fixed_ips(w, port, wanted)
    store.update_row(w.s, port, {"binding_host_id": host, "device_id": device_id(host, network.id)} if moved else {})
    w.emit("port_updated", views.render_one(w.s, port))


def remove_all(w: Work, network_id: str) -> None:
    """The network is being deleted: its DHCP ports go first (they never keep it in use)."""
    for port in dhcp_ports(w, network_id):
        ports.remove(w, port)
