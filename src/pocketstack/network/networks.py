"""Networks: create with a provider segment, update, delete when nothing uses them
(an external network takes its unassociated floating IPs with it, as in Neutron).
``shared`` and ``router:external`` are kept as the wildcard RBAC policies (:mod:`.rbac`)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from pocketstack.common.db.cas import ConcurrentUpdate, changed_rows
from pocketstack.network import converters, dhcp_ports, errors, floatingips, qos, quota, rbac, segments, store, views
from pocketstack.network.context import Work
from pocketstack.network.models import Network, Port, Segment, Subnet, Tag
from pocketstack.network.subnets import delete_subnet_rows

UPDATABLE = {"name", "description", "admin_state_up", "shared", "router:external", "mtu",
             "port_security_enabled", "is_default", "qos_policy_id"}
_COLUMNS = {"router:external": "external"}


def create(w: Work, attrs: dict) -> Network:
    project_id = w.owner(attrs)
    network_type = attrs.get("provider:network_type")
    physnet = attrs.get("provider:physical_network")
    seg_id = attrs.get("provider:segmentation_id")
    if network_type is None:
        if physnet or seg_id is not None:
            raise errors.InvalidInput(error_message="provider:network_type is required with provider attributes")
        network_type = w.env.segments.tenant_network_type
    if network_type == "vlan" and not physnet:
        physnet = next((name for name, ranges in w.env.segments.vlan_ranges.items() if ranges), None)
    segments.validate(w.env.segments, network_type, physnet, seg_id)
    mtu = w.env.segments.network_mtu(network_type, _mtu(attrs) if "mtu" in attrs else None)
    row = Network(project_id=project_id, name=attrs.get("name") or "", description=attrs.get("description") or "",
                  admin_state_up=attrs.get("admin_state_up", True), shared=attrs.get("shared", False),
                  external=attrs.get("router:external", False), is_default=attrs.get("is_default", False),
                  mtu=mtu,
                  port_security_enabled=attrs.get("port_security_enabled", True),
                  network_type=network_type, physical_network=physnet,
                  qos_policy_id=qos.network_binding(w, project_id, attrs))
    w.s.add(row)
    w.s.flush()
    quota.claim(w, project_id, "network", row.id)
    row.segmentation_id = segments.allocate(w.s, w.env.segments, row.id, network_type, physnet, seg_id)
    w.s.flush()
    rbac.set_wildcard_share(w, row, row.shared)
    rbac.set_external(w, row, row.external)
    w.emit("network_updated", views.render_one(w.s, row))
    return row


def update(w: Work, network_id: str, attrs: dict, revision: int | None = None) -> Network:
    row = store.fetch(w.s, Network, w.ctx, network_id)
    if any(k.startswith("provider:") for k in attrs):
        raise errors.InvalidInput(error_message="Plugin does not support updating provider attributes")
    store.check_updatable(attrs, UPDATABLE)
    if "shared" in attrs:
        rbac.set_wildcard_share(w, row, attrs["shared"])
    if "router:external" in attrs:
        rbac.set_external(w, row, attrs["router:external"])
    values = {_COLUMNS.get(k, k): v for k, v in attrs.items()}
    if "mtu" in attrs:
        # The subnets read here are pinned by the revision the update swaps: a subnet
        # created or deleted meanwhile bumped it, and this transaction re-runs.
        mtu = _mtu(attrs)
        segments.check_subnet_mtu(row.id, mtu, w.s.scalars(sa.select(Subnet.ip_version)
                                                           .where(Subnet.network_id == row.id)))
        values["mtu"] = w.env.segments.network_mtu(row.network_type, mtu)
    if "qos_policy_id" in attrs:
        values["qos_policy_id"] = qos.rebinding(w, row.qos_policy_id, attrs["qos_policy_id"])
    store.update_row(w.s, row, values, revision)
    w.emit("network_updated", views.render_one(w.s, row))
    return row


def delete(w: Work, network_id: str) -> None:
    row = store.fetch(w.s, Network, w.ctx, network_id)
    if row.external:
        floatingips.delete_disassociated(w, row.id)
    dhcp_ports.remove_all(w, row.id)
    in_use = w.s.scalar(sa.select(sa.func.count()).select_from(Port).where(Port.network_id == row.id))
    if in_use:
        raise _in_use(row.id)
    rendered = views.render_one(w.s, row)
    subnets = list(w.s.scalars(sa.select(Subnet).where(Subnet.network_id == row.id)))
    try:
        for subnet in subnets:
            delete_subnet_rows(w, subnet)
        w.s.execute(sa.delete(Segment).where(Segment.network_id == row.id))
        rbac.delete_all(w.s, row.id)
        w.s.execute(sa.delete(Tag).where(Tag.resource_id == row.id))
        quota.release(w.s, [row.id])
        deleted = changed_rows(w.s, sa.delete(Network).where(Network.id == row.id,
                                                             Network.revision_number == row.revision_number))
        w.s.flush()
    except sa_exc.IntegrityError:
        # A port or allocation committed on this network meanwhile (foreign key).
        raise _in_use(row.id) from None
    if deleted != 1:
        raise ConcurrentUpdate(f"network {row.id} changed while being deleted")
    w.emit("network_deleted", rendered)


def _mtu(attrs: dict) -> int:
    """``mtu`` as net-mtu-writable takes it: an integer (or a string of one), not negative."""
    return converters.non_negative("mtu", converters.to_int(attrs["mtu"]))


def _in_use(network_id: str):
    return errors.NetworkInUse(net_id=network_id)

