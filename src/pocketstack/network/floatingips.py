"""Floating IPs: an address on an external network, NAT-ed to a port's fixed IP.

The address is the fixed IP of a port the floating IP owns on the external network,
so it is allocated by the same IPAM path as any port (INSERT under the unique
(subnet, address) constraint).  "One floating IP per fixed IP" is a unique constraint
too: two racing associations cannot both commit.
"""

from __future__ import annotations

import ipaddress
import uuid

import sqlalchemy as sa

from pocketstack.common.db.cas import ConcurrentUpdate, changed_rows
from pocketstack.common.db.inserts import try_insert
from pocketstack.network import errors, ports, quota, store, views
from pocketstack.network.context import Work
from pocketstack.network.models import FloatingIp, IpAllocation, Network, Port, Router, Subnet, Tag
from pocketstack.network.routers import INTERFACE

UPDATABLE = {"description", "port_id", "fixed_ip_address"}


def _emit(w: Work, fip: FloatingIp) -> None:
    w.emit("floatingip_updated", views.render_one(w.s, fip))


def _find_router(w: Work, network_id: str, subnet_id: str) -> str | None:
    """A router with its gateway on ``network_id`` and an interface on ``subnet_id``."""
    return w.s.scalar(sa.select(Router.id).where(
        Router.external_network_id == network_id,
        Router.id.in_(sa.select(Port.device_id).join(IpAllocation, IpAllocation.port_id == Port.id).where(
            Port.device_owner == INTERFACE, IpAllocation.subnet_id == subnet_id))).limit(1))


def _association(w: Work, fip: FloatingIp, port_id: str | None, fixed_ip: str | None) -> dict:
    if port_id is None:
        return {"port_id": None, "fixed_ip_address": None, "router_id": None, "status": "DOWN"}
    port = store.fetch(w.s, Port, w.ctx, port_id)
    if not w.ctx.is_admin and port.project_id != fip.project_id:
        # A port the caller sees (on its network) but another project's.
        raise errors.BadFloatingIPRequest(msg=f"Cannot process floating IP association with Port {port_id}, since "
                                              f"that port is owned by a different tenant")
    addresses = [(ip, subnet) for ip, subnet in w.s.execute(
        sa.select(IpAllocation.ip_address, IpAllocation.subnet_id).where(IpAllocation.port_id == port.id)
        .order_by(IpAllocation.id)) if ipaddress.ip_address(ip).version == 4]
    if fixed_ip:
        chosen = next(((ip, s) for ip, s in addresses if ip == fixed_ip), None)
        if chosen is None:
            raise errors.BadFloatingIPRequest(msg=f"Port {port.id} does not have fixed ip {fixed_ip}")
    elif addresses:
        chosen = addresses[0]
    else:
        raise errors.BadFloatingIPRequest(msg=f"Port {port.id} does not have any IPv4 address")
    router_id = _find_router(w, fip.floating_network_id, chosen[1])
    if router_id is None:
        raise errors.ExternalGatewayForFloatingIPNotFound(external_network_id=fip.floating_network_id,
                                                         subnet_id=chosen[1], port_id=port.id)
    return {"port_id": port.id, "fixed_ip_address": chosen[0], "router_id": router_id, "status": "ACTIVE"}


def _apply(w: Work, fip: FloatingIp, values: dict, revision: int | None = None) -> None:
    """Write an association; the unique constraint turns a racing duplicate into a 409."""
    done = try_insert(w.s, lambda: store.update_row(w.s, fip, values, revision))
    if not done:
        raise errors.FloatingIPPortAlreadyAssociated(
            floating_ip_address=fip.floating_ip_address, fip_id=fip.id, port_id=values["port_id"],
            fixed_ip=values["fixed_ip_address"], net_id=fip.floating_network_id)


def create(w: Work, attrs: dict) -> FloatingIp:
    network = store.fetch(w.s, Network, w.ctx, attrs["floating_network_id"])
    if not network.external:
        raise errors.BadFloatingIPRequest(msg=f"Network {network.id} is not a valid external network")
    project_id = w.owner(attrs)
    fip_id = str(uuid.uuid4())
    quota.claim(w, project_id, "floatingip", fip_id)
    fixed = None
    if attrs.get("floating_ip_address") or attrs.get("subnet_id"):
        fixed = [{k: v for k, v in (("subnet_id", attrs.get("subnet_id")),
                                    ("ip_address", attrs.get("floating_ip_address"))) if v}]
    elif not w.s.scalar(sa.select(Subnet.id).where(Subnet.network_id == network.id, Subnet.ip_version == 4).limit(1)):
        raise errors.BadFloatingIPRequest(msg=f"Network {network.id} does not contain any IPv4 subnet")
    port = ports.create(w, {"network_id": network.id, "project_id": "", "device_owner": "network:floatingip",
                            "device_id": fip_id, "fixed_ips": fixed}, count_quota=False, ip_versions=(4,))
    address = w.s.scalar(sa.select(IpAllocation.ip_address).where(IpAllocation.port_id == port.id)
                         .order_by(IpAllocation.id).limit(1))
    fip = FloatingIp(id=fip_id, project_id=project_id, floating_network_id=network.id, floating_ip_address=address,
                     floating_port_id=port.id, description=attrs.get("description") or "")
    w.s.add(fip)
    w.s.flush()
    if attrs.get("port_id"):
        _apply(w, fip, _association(w, fip, attrs["port_id"], attrs.get("fixed_ip_address")))
    _emit(w, fip)
    return fip


def update(w: Work, fip_id: str, attrs: dict, revision: int | None = None) -> FloatingIp:
    fip = store.fetch(w.s, FloatingIp, w.ctx, fip_id)
    store.check_updatable(attrs, UPDATABLE)
    if not attrs:
        attrs = {"port_id": None}  # Neutron's oldest contract: an empty update dissociates
    values = {k: v for k, v in attrs.items() if k == "description"}
    if "port_id" in attrs:
        values.update(_association(w, fip, attrs["port_id"], attrs.get("fixed_ip_address")))
    if values.get("port_id"):
        _apply(w, fip, values, revision)
    else:
        store.update_row(w.s, fip, values, revision)
    _emit(w, fip)
    return fip


def delete(w: Work, fip_id: str) -> None:
    remove(w, store.fetch(w.s, FloatingIp, w.ctx, fip_id))


def delete_disassociated(w: Work, network_id: str) -> None:
    """Delete the floating IPs of external network ``network_id`` that are not associated
    (Neutron does this before deleting the network; associated ones keep it in use)."""
    for fip in list(w.s.scalars(sa.select(FloatingIp).where(FloatingIp.floating_network_id == network_id,
                                                            FloatingIp.port_id.is_(None)))):
        remove(w, fip)


def remove(w: Work, fip: FloatingIp) -> None:
    """Delete ``fip`` (already authorised) and its port; an association committed since
    it was read makes the transaction re-run (compare-and-swap on the revision)."""
    rendered = views.render_one(w.s, fip)
    deleted = changed_rows(w.s, sa.delete(FloatingIp).where(FloatingIp.id == fip.id,
                                                            FloatingIp.revision_number == fip.revision_number))
    if deleted != 1:
        raise ConcurrentUpdate(f"floating IP {fip.id} changed while being deleted")
    port = w.s.get(Port, fip.floating_port_id)
    if port is not None:
        ports.remove(w, port)
    quota.release(w.s, [fip.id])
    w.s.execute(sa.delete(Tag).where(Tag.resource_id == fip.id))
    w.emit("floatingip_deleted", rendered)
