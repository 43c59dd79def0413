"""Neutron's tables.

Uniqueness that matters under concurrency lives in unique constraints, because an
INSERT under a unique constraint is decided by the database itself (and certified by
Galera across writers), where a read-then-write check is not:

* ``network_ip_allocation`` — one row per (subnet, address): the IPAM claim.
* ``network_port`` — (network_id, mac_address): a MAC is unique per network.
* ``network_segment`` — (network_type, physical_network, segmentation_id).
* ``network_quota_slot`` — (project_id, resource, slot): quota usage, see quota.py.
* ``network_trunk_port`` — port_id: a port is in at most one trunk, as its parent or as
  one of its subports; (trunk_id, segmentation_type, segmentation_id): one subport per
  VLAN of a trunk (see trunks.py).

Subnet pools carry a ``generation`` for compare-and-swap prefix allocation; address
scopes and RBAC policies carry one too (see :mod:`.address_scopes` and :mod:`.rbac`).
* ``network_qos_rule`` — (qos_policy_id, type, direction): one QoS rule of a type per
  direction in a policy; ``network_qos_default_policy`` — one default policy per project.

Address groups carry a ``generation`` too: every security group rule that names one as
its remote bumps it, so a delete of the group races with no new rule (see
:mod:`.address_groups`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import cast

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from pocketstack.common.db import Base, JSONText, utcnow


def _uuid() -> str:
    """Neutron ids are dashed UUIDs, and clients (the CLI's name-or-id lookup) expect them."""
    return str(uuid.uuid4())


class StandardAttrs:
    """Neutron's standard attributes: every resource has these."""

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=_uuid)
    project_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    name: Mapped[str] = mapped_column(sa.String(255), default="")
    description: Mapped[str] = mapped_column(sa.String(255), default="")
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    revision_number: Mapped[int] = mapped_column(sa.Integer, default=0)


class Network(StandardAttrs, Base):
    __tablename__ = "network_network"

    admin_state_up: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="ACTIVE")
    shared: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    external: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    is_default: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    mtu: Mapped[int] = mapped_column(sa.Integer, default=1500)
    port_security_enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    network_type: Mapped[str | None] = mapped_column(sa.String(16), nullable=True)
    physical_network: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    segmentation_id: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    # The QoS policy bound to the network (Neutron's qos extension; see :mod:`.qos` for
    # why binding one races with no delete of it).
    qos_policy_id: Mapped[str | None] = mapped_column(sa.String(36), nullable=True, index=True)


class Segment(Base):
    """A claimed segmentation id; the row's existence is the allocation."""

    __tablename__ = "network_segment"
    __table_args__ = (sa.UniqueConstraint("network_type", "physical_network", "segmentation_id"),)

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=_uuid)
    network_id: Mapped[str] = mapped_column(sa.ForeignKey("network_network.id", ondelete="CASCADE"), index=True)
    network_type: Mapped[str] = mapped_column(sa.String(16))
    physical_network: Mapped[str] = mapped_column(sa.String(64), default="")
    segmentation_id: Mapped[int] = mapped_column(sa.Integer)


class SubnetPool(StandardAttrs, Base):
    __tablename__ = "network_subnetpool"

    ip_version: Mapped[int] = mapped_column(sa.Integer)
    prefixes: Mapped[list] = mapped_column(JSONText, default=list)
    default_prefixlen: Mapped[int] = mapped_column(sa.Integer)
    min_prefixlen: Mapped[int] = mapped_column(sa.Integer)
    max_prefixlen: Mapped[int] = mapped_column(sa.Integer)
    shared: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    is_default: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    # Neutron's per-project limit on what subnets draw from the pool (IPv4 addresses or
    # IPv6 /64s); None is no limit.
    default_quota: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    # Prefixes handed out to subnets; changed only by compare-and-swap on generation.
    allocated: Mapped[list] = mapped_column(JSONText, default=list)
    generation: Mapped[int] = mapped_column(sa.Integer, default=0)
    address_scope_id: Mapped[str | None] = mapped_column(sa.String(36), nullable=True, index=True)


class AddressScope(Base):
    """Neutron's address scope: no standard attributes (no description, timestamps,
    revision or tags), as in Neutron.  ``generation`` is bumped by every pool that joins
    or changes in the scope, so a delete or a prefix check racing with it re-runs."""

    __tablename__ = "network_address_scope"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=_uuid)
    project_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    name: Mapped[str] = mapped_column(sa.String(255), default="")
    shared: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    ip_version: Mapped[int] = mapped_column(sa.Integer)
    generation: Mapped[int] = mapped_column(sa.Integer, default=0)


class RbacPolicy(Base):
    """One grant of an object to a project (``target_tenant``, ``*`` for all), Neutron's
    ``networkrbacs``, ``qospolicyrbacs``, ``securitygrouprbacs``, ``addressscoperbacs``,
    ``subnetpoolrbacs`` and ``addressgrouprbacs`` in one table: the unique constraint
    makes a duplicate grant a 409 decided by the database.  ``object_id`` is the object whatever its type; the one
    column of the object's type among ``network_id``… repeats it under a foreign key, so
    that deleting the object deletes its grants and a grant cannot outlive its object.
    ``generation`` is bumped by every use a grant lets another project make (a port, a
    binding, a subnet, a pool), so revoking it races with no such use (see :mod:`.rbac`)."""

    __tablename__ = "network_rbac_policy"
    __table_args__ = (sa.UniqueConstraint("target_tenant", "object_id", "action"),)

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=_uuid)
    project_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    object_type: Mapped[str] = mapped_column(sa.String(32), default="network")
    object_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    action: Mapped[str] = mapped_column(sa.String(255))
    target_tenant: Mapped[str] = mapped_column(sa.String(255), index=True)
    generation: Mapped[int] = mapped_column(sa.Integer, default=0)
    network_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("network_network.id", ondelete="CASCADE"), nullable=True, index=True)
    qos_policy_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("network_qos_policy.id", ondelete="CASCADE"), nullable=True, index=True)
    security_group_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("network_security_group.id", ondelete="CASCADE"), nullable=True, index=True)
    address_scope_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("network_address_scope.id", ondelete="CASCADE"), nullable=True, index=True)
    subnetpool_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("network_subnetpool.id", ondelete="CASCADE"), nullable=True, index=True)
    address_group_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("network_address_group.id", ondelete="CASCADE"), nullable=True, index=True)


class AddressGroup(StandardAttrs, Base):
    """Neutron's address group: a named set of CIDRs a security group rule may name as
    its remote (``remote_address_group_id``).  ``addresses`` are the normalized CIDRs,
    sorted; they change only by compare-and-swap on the revision number (which
    ``add_addresses``/``remove_addresses`` bump, as Neutron's association rows do).
    ``generation`` is bumped by every rule that starts using the group."""

    __tablename__ = "network_address_group"

    addresses: Mapped[list] = mapped_column(JSONText, default=list)
    generation: Mapped[int] = mapped_column(sa.Integer, default=0)


class QosPolicy(StandardAttrs, Base):
    """Neutron's QoS policy.  Its revision number is bumped by every change to its rules,
    so rule checks that read the policy's other rules (one per type and direction, a
    minimum below the limit) race with no other rule change: one re-runs.
    ``generation`` is bumped by every network or port bound to it, so that binding it
    races with no delete (see :mod:`.qos`)."""

    __tablename__ = "network_qos_policy"

    shared: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    generation: Mapped[int] = mapped_column(sa.Integer, default=0)


class QosDefaultPolicy(Base):
    """A project's default QoS policy (Neutron's ``qos_policies_default``): the primary
    key makes a second default of one project a refused insert, decided by the database."""

    __tablename__ = "network_qos_default_policy"

    project_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    qos_policy_id: Mapped[str] = mapped_column(sa.ForeignKey("network_qos_policy.id", ondelete="CASCADE"),
                                               index=True)


class QosRule(Base):
    """One rule of a QoS policy, of any type (``bandwidth_limit``, ``dscp_marking``,
    ``minimum_bandwidth``); the columns another type does not have are NULL.  A DSCP
    rule's ``direction`` is ``""`` so that the unique constraint -- one rule per type and
    direction in a policy, Neutron's ``duplicates`` -- holds for it too."""

    __tablename__ = "network_qos_rule"
    __table_args__ = (sa.UniqueConstraint("qos_policy_id", "type", "direction"),)

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=_uuid)
    qos_policy_id: Mapped[str] = mapped_column(sa.ForeignKey("network_qos_policy.id", ondelete="CASCADE"),
                                               index=True)
    type: Mapped[str] = mapped_column(sa.String(32))
    direction: Mapped[str] = mapped_column(sa.String(16), default="")
    max_kbps: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    max_burst_kbps: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    min_kbps: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    dscp_mark: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class Subnet(StandardAttrs, Base):
    __tablename__ = "network_subnet"

    network_id: Mapped[str] = mapped_column(sa.ForeignKey("network_network.id"), index=True)
    ip_version: Mapped[int] = mapped_column(sa.Integer)
    cidr: Mapped[str] = mapped_column(sa.String(64))
    gateway_ip: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    enable_dhcp: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    allocation_pools: Mapped[list] = mapped_column(JSONText, default=list)
    dns_nameservers: Mapped[list] = mapped_column(JSONText, default=list)
    host_routes: Mapped[list] = mapped_column(JSONText, default=list)
    ipv6_ra_mode: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    ipv6_address_mode: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    subnetpool_id: Mapped[str | None] = mapped_column(sa.String(36), nullable=True)


class Port(StandardAttrs, Base):
    __tablename__ = "network_port"
    __table_args__ = (sa.UniqueConstraint("network_id", "mac_address"),)

    network_id: Mapped[str] = mapped_column(sa.ForeignKey("network_network.id"), index=True)
    mac_address: Mapped[str] = mapped_column(sa.String(32))
    admin_state_up: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="DOWN")
    device_id: Mapped[str] = mapped_column(sa.String(255), default="", index=True)
    device_owner: Mapped[str] = mapped_column(sa.String(255), default="")
    binding_host_id: Mapped[str] = mapped_column(sa.String(255), default="")
    binding_vnic_type: Mapped[str] = mapped_column(sa.String(64), default="normal")
    binding_profile: Mapped[dict] = mapped_column(JSONText, default=dict)
    port_security_enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    allowed_address_pairs: Mapped[list] = mapped_column(JSONText, default=list)
    security_groups: Mapped[list] = mapped_column(JSONText, default=list)
    # Neutron's extra_dhcp_opt: [{opt_name, opt_value, ip_version}] (see dhcp_opts).
    extra_dhcp_opts: Mapped[list] = mapped_column(JSONText, default=list)
    # Set when compute created the port for an instance (deleted on deallocate).
    compute_created: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    # The instance compute bound the port to (Nova's network info cache): a server shows
    # only these ports, never one that merely names it as its device_id.
    bound_instance_id: Mapped[str | None] = mapped_column(sa.String(255), nullable=True, index=True)
    # The port's own QoS policy (the network's applies where it has none), as on networks.
    qos_policy_id: Mapped[str | None] = mapped_column(sa.String(36), nullable=True, index=True)


class IpAllocation(Base):
    """One fixed IP of one port; the unique (subnet, address) row *is* the allocation."""

    __tablename__ = "network_ip_allocation"
    __table_args__ = (sa.UniqueConstraint("subnet_id", "ip_address"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    subnet_id: Mapped[str] = mapped_column(sa.ForeignKey("network_subnet.id"), index=True)
    ip_address: Mapped[str] = mapped_column(sa.String(64))
    port_id: Mapped[str] = mapped_column(sa.ForeignKey("network_port.id", ondelete="CASCADE"), index=True)
    network_id: Mapped[str] = mapped_column(sa.String(36), index=True)


class SecurityGroup(StandardAttrs, Base):
    __tablename__ = "network_security_group"

    stateful: Mapped[bool] = mapped_column(sa.Boolean, default=True)


class DefaultSecurityGroup(Base):
    """At most one ``default`` group per project: created on first use under this key."""

    __tablename__ = "network_default_security_group"

    project_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    security_group_id: Mapped[str] = mapped_column(
        sa.ForeignKey("network_security_group.id", ondelete="CASCADE"))


class SecurityGroupRule(Base):
    __tablename__ = "network_security_group_rule"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=_uuid)
    project_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    security_group_id: Mapped[str] = mapped_column(
        sa.ForeignKey("network_security_group.id", ondelete="CASCADE"), index=True)
    direction: Mapped[str] = mapped_column(sa.String(16))
    ethertype: Mapped[str] = mapped_column(sa.String(16), default="IPv4")
    protocol: Mapped[str | None] = mapped_column(sa.String(40), nullable=True)
    port_range_min: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    port_range_max: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    remote_ip_prefix: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    remote_group_id: Mapped[str | None] = mapped_column(sa.String(36), nullable=True)
    # No foreign key (it would rebuild this table in SQLite's batch mode): a rule bumps the
    # group's generation instead, which the group's delete checks (address_groups.py).
    remote_address_group_id: Mapped[str | None] = mapped_column(sa.String(36), nullable=True, index=True)
    description: Mapped[str] = mapped_column(sa.String(255), default="")
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    revision_number: Mapped[int] = mapped_column(sa.Integer, default=0)


class Router(StandardAttrs, Base):
    __tablename__ = "network_router"

    admin_state_up: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="ACTIVE")
    gw_port_id: Mapped[str | None] = mapped_column(sa.String(36), nullable=True)
    external_network_id: Mapped[str | None] = mapped_column(sa.String(36), nullable=True)
    enable_snat: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    routes: Mapped[list] = mapped_column(JSONText, default=list)
    # The service flavor it was made with (l3-flavors); the foreign key keeps that flavor.
    flavor_id: Mapped[str | None] = mapped_column(sa.ForeignKey("network_flavor.id"), nullable=True)


class FloatingIp(StandardAttrs, Base):
    __tablename__ = "network_floatingip"
    # One floating IP per fixed IP and external network; NULLs (unassociated) never clash.
    __table_args__ = (sa.UniqueConstraint("floating_network_id", "port_id", "fixed_ip_address"),)

    floating_network_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    floating_ip_address: Mapped[str] = mapped_column(sa.String(64))
    floating_port_id: Mapped[str] = mapped_column(sa.String(36))
    port_id: Mapped[str | None] = mapped_column(sa.String(36), nullable=True, index=True)
    fixed_ip_address: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    router_id: Mapped[str | None] = mapped_column(sa.String(36), nullable=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="DOWN")


class AutoTopology(Base):
    """A project's get-me-a-network topology; the primary key makes its creation race-free."""

    __tablename__ = "network_auto_topology"

    project_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    network_id: Mapped[str] = mapped_column(sa.ForeignKey("network_network.id", ondelete="CASCADE"))
    router_id: Mapped[str | None] = mapped_column(sa.String(36), nullable=True)


class Trunk(StandardAttrs, Base):
    """Neutron's trunk: a parent port carrying its subports' networks as VLANs.  The
    parent is also a :class:`TrunkPort` row (``role`` ``parent``): that row, not this
    one, is what keeps a port out of two trunks.  ``status``: Neutron's trunk status, DOWN
    until the datapath agent reports it wired (:mod:`.trunks`)."""

    __tablename__ = "network_trunk"

    admin_state_up: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    port_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="DOWN", server_default="DOWN")


class TrunkPort(Base):
    """One port of one trunk: its parent (no segmentation) or a subport.  The primary key
    makes "this port is already in a trunk" a unique-key clash the database decides; the
    foreign key keeps a deleted port out (the port's revision is bumped by every change
    here, so its compare-and-swap delete cannot miss one)."""

    __tablename__ = "network_trunk_port"
    # Named: the convention's name would pass PostgreSQL's 63-character limit.
    __table_args__ = (sa.UniqueConstraint("trunk_id", "segmentation_type", "segmentation_id",
                                          name="uq_network_trunk_port_segmentation"),)

    port_id: Mapped[str] = mapped_column(sa.ForeignKey("network_port.id"), primary_key=True)
    trunk_id: Mapped[str] = mapped_column(sa.ForeignKey("network_trunk.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(sa.String(16))
    segmentation_type: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    segmentation_id: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)


class MeteringLabel(Base):
    """Neutron's metering label (``metering``): no standard attributes.  A ``shared``
    label meters the routers of every project, another only its project's."""

    __tablename__ = "network_metering_label"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=_uuid)
    project_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    name: Mapped[str] = mapped_column(sa.String(255), default="")
    description: Mapped[str] = mapped_column(sa.String(1024), default="")
    shared: Mapped[bool] = mapped_column(sa.Boolean, default=False)


class MeteringLabelRule(Base):
    """One rule of a metering label: the traffic of a direction to or from a prefix
    (``remote_ip_prefix``, or ``source_ip_prefix``/``destination_ip_prefix``), counted
    or, ``excluded``, left out.  Deleted with its label."""

    __tablename__ = "network_metering_label_rule"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=_uuid)
    metering_label_id: Mapped[str] = mapped_column(
        sa.ForeignKey("network_metering_label.id", ondelete="CASCADE", name="fk_network_metering_rule_label"),
        index=True)  # (named: the convention's name would pass PostgreSQL's 63 characters)
    direction: Mapped[str] = mapped_column(sa.String(16))
    remote_ip_prefix: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    source_ip_prefix: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    destination_ip_prefix: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    excluded: Mapped[bool] = mapped_column(sa.Boolean, default=False)


class Flavor(Base):
    """Neutron's service flavor (``flavors``): no project, no standard attributes."""

    __tablename__ = "network_flavor"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=_uuid)
    name: Mapped[str] = mapped_column(sa.String(255), default="")
    description: Mapped[str | None] = mapped_column(sa.String(1024), nullable=True)
    service_type: Mapped[str] = mapped_column(sa.String(36))
    enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True)


class ServiceProfile(Base):
    """A service profile a flavor names (a driver and its ``metainfo``)."""

    __tablename__ = "network_service_profile"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=_uuid)
    description: Mapped[str | None] = mapped_column(sa.String(1024), nullable=True)
    driver: Mapped[str] = mapped_column(sa.String(1024), default="")
    enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    metainfo: Mapped[str | None] = mapped_column(sa.String(4096), nullable=True)


class FlavorServiceProfile(Base):
    """A flavor's binding to a service profile: the primary key makes a second binding
    of the same pair a clash the database decides; a bound profile cannot be deleted
    (no cascade from the profile: the foreign key refuses it)."""

    __tablename__ = "network_flavor_service_profile"

    flavor_id: Mapped[str] = mapped_column(sa.ForeignKey("network_flavor.id", ondelete="CASCADE"),
                                           primary_key=True)
    service_profile_id: Mapped[str] = mapped_column(sa.ForeignKey("network_service_profile.id",
                                                                  name="fk_network_flavor_binding_profile"),
                                                    primary_key=True, index=True)


class Tag(Base):
    __tablename__ = "network_tag"
    __table_args__ = (sa.UniqueConstraint("resource_id", "tag"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    resource_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    tag: Mapped[str] = mapped_column(sa.String(255))


class Quota(Base):
    """A per-project limit overriding the default."""

    __tablename__ = "network_quota"
    __table_args__ = (sa.UniqueConstraint("project_id", "resource"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(sa.String(64))
    resource: Mapped[str] = mapped_column(sa.String(64))
    hard_limit: Mapped[int] = mapped_column(sa.Integer)


class QuotaSlot(Base):
    """One unit of a project's usage of a resource; see :mod:`pocketstack.network.quota`."""

    __tablename__ = "network_quota_slot"
    __table_args__ = (sa.UniqueConstraint("project_id", "resource", "slot"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(sa.String(64))
    resource: Mapped[str] = mapped_column(sa.String(64))
    slot: Mapped[int] = mapped_column(sa.BigInteger)
    resource_id: Mapped[str] = mapped_column(sa.String(36), index=True)


def table(model: type[Base]) -> sa.Table:
    """The model's table (SQLAlchemy types a declarative ``__table__`` as a FromClause)."""
    return cast(sa.Table, model.__table__)
