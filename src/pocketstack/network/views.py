"""Rows → the exact dicts Neutron's API returns (batch-loading what they join to).

Every function takes a session so a list renders in a constant number of queries.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.network import access
from pocketstack.network.drivers.linux import LinuxDriver
from pocketstack.network.models import (
    AddressGroup,
    AddressScope,
    Flavor,
    FlavorServiceProfile,
    FloatingIp,
    IpAllocation,
    MeteringLabel,
    MeteringLabelRule,
    Network,
    Port,
    QosDefaultPolicy,
    QosPolicy,
    QosRule,
    RbacPolicy,
    Router,
    SecurityGroup,
    SecurityGroupRule,
    ServiceProfile,
    Subnet,
    SubnetPool,
    Tag,
    Trunk,
    TrunkPort,
)
from pocketstack.network.trunks import PARENT, SUBPORT


def tags_of(session: Session, ids: list[str]) -> dict[str, list[str]]:
    result: dict[str, list[str]] = defaultdict(list)
    if ids:
        for resource_id, tag in session.execute(sa.select(Tag.resource_id, Tag.tag).where(Tag.resource_id.in_(ids))
                                                .order_by(Tag.tag)):
            result[resource_id].append(tag)
    return result


def _standard(row, tags: dict[str, list[str]]) -> dict:
    return {"id": row.id, "name": row.name, "description": row.description, "project_id": row.project_id,
            "tenant_id": row.project_id, "created_at": row.created_at, "updated_at": row.updated_at,
            "revision_number": row.revision_number, "tags": tags.get(row.id, [])}


def _shared(session: Session, model: type, rows: list) -> set[str]:
    """The ids of ``rows`` shared with the project the session renders for (Neutron's
    ``shared`` of an RBAC object: a policy for that project or for every project)."""
    return access.shared_ids(session, [r.id for r in rows], access.viewer(session), model)


def address_scopes_of(session: Session, ids: list[str]) -> dict[tuple[str, int], str | None]:
    """(network, IP version) -> the address scope of the pools its subnets come from
    (Neutron's ``ipv4_address_scope``/``ipv6_address_scope``: the last pool's wins)."""
    scopes: dict[tuple[str, int], str | None] = {}
    if ids:
        for net_id, version, scope in session.execute(
                sa.select(Subnet.network_id, SubnetPool.ip_version, SubnetPool.address_scope_id)
                .join(SubnetPool, SubnetPool.id == Subnet.subnetpool_id).where(Subnet.network_id.in_(ids))
                .order_by(Subnet.created_at, Subnet.id)):
            scopes[(net_id, version)] = scope
    return scopes


def networks(session: Session, rows: list[Network]) -> list[dict]:
    ids = [r.id for r in rows]
    subnets: dict[str, list[str]] = defaultdict(list)
    if ids:
        for net_id, subnet_id in session.execute(sa.select(Subnet.network_id, Subnet.id)
                                                 .where(Subnet.network_id.in_(ids)).order_by(Subnet.created_at)):
            subnets[net_id].append(subnet_id)
    tags = tags_of(session, ids)
    shared = _shared(session, Network, rows)
    scopes = address_scopes_of(session, ids)
    return [{**_standard(r, tags), "admin_state_up": r.admin_state_up, "status": r.status, "shared": r.id in shared,
             "router:external": r.external, "is_default": r.is_default, "mtu": r.mtu,
             "port_security_enabled": r.port_security_enabled, "subnets": subnets.get(r.id, []),
             "availability_zone_hints": [], "availability_zones": ["nova"], "l2_adjacency": True,
             "ipv4_address_scope": scopes.get((r.id, 4)), "ipv6_address_scope": scopes.get((r.id, 6)),
             "provider:network_type": r.network_type, "provider:physical_network": r.physical_network,
             "provider:segmentation_id": r.segmentation_id, "qos_policy_id": r.qos_policy_id} for r in rows]


def subnets(session: Session, rows: list[Subnet]) -> list[dict]:
    tags = tags_of(session, [r.id for r in rows])
    return [{**_standard(r, tags), "network_id": r.network_id, "ip_version": r.ip_version, "cidr": r.cidr,
             "gateway_ip": r.gateway_ip, "enable_dhcp": r.enable_dhcp, "allocation_pools": r.allocation_pools,
             "dns_nameservers": r.dns_nameservers, "host_routes": r.host_routes, "ipv6_ra_mode": r.ipv6_ra_mode,
             "ipv6_address_mode": r.ipv6_address_mode, "subnetpool_id": r.subnetpool_id, "service_types": [],
             "segment_id": None, "dns_publish_fixed_ip": False} for r in rows]


def subnetpools(session: Session, rows: list[SubnetPool]) -> list[dict]:
    """Neutron's subnet pool, its prefix lengths strings (``_make_subnetpool_dict``)."""
    tags = tags_of(session, [r.id for r in rows])
    shared = _shared(session, SubnetPool, rows)
    return [{**_standard(r, tags), "ip_version": r.ip_version, "prefixes": r.prefixes,
             "default_prefixlen": str(r.default_prefixlen), "min_prefixlen": str(r.min_prefixlen),
             "max_prefixlen": str(r.max_prefixlen), "shared": r.id in shared, "is_default": r.is_default,
             "address_scope_id": r.address_scope_id, "default_quota": r.default_quota} for r in rows]


def address_scopes(session: Session, rows: list[AddressScope]) -> list[dict]:
    """Neutron's address scope: no standard attributes."""
    shared = _shared(session, AddressScope, rows)
    return [{"id": r.id, "name": r.name, "project_id": r.project_id, "tenant_id": r.project_id,
             "shared": r.id in shared, "ip_version": r.ip_version} for r in rows]


def address_groups(session: Session, rows: list[AddressGroup]) -> list[dict]:
    """Neutron's address group: standard attributes but no tags, and ``shared`` (as the
    viewer sees it) for policy checks only -- the API does not show it (render.INVISIBLE)."""
    shared = _shared(session, AddressGroup, rows)
    return [{"id": r.id, "name": r.name, "description": r.description, "project_id": r.project_id,
             "tenant_id": r.project_id, "addresses": list(r.addresses), "created_at": r.created_at,
             "updated_at": r.updated_at, "revision_number": r.revision_number, "shared": r.id in shared}
            for r in rows]


def rbac_policies(session: Session, rows: list[RbacPolicy]) -> list[dict]:
    """The attributes of Neutron's rbac_policies map (its internal ``target_project`` is not shown)."""
    return [{"id": r.id, "project_id": r.project_id, "tenant_id": r.project_id, "object_type": r.object_type,
             "object_id": r.object_id, "action": r.action, "target_tenant": r.target_tenant} for r in rows]


def fixed_ips_of(session: Session, port_ids: list[str]) -> dict[str, list[dict]]:
    result: dict[str, list[dict]] = defaultdict(list)
    if port_ids:
        for port_id, subnet_id, ip in session.execute(
                sa.select(IpAllocation.port_id, IpAllocation.subnet_id, IpAllocation.ip_address)
                .where(IpAllocation.port_id.in_(port_ids)).order_by(IpAllocation.id)):
            result[port_id].append({"subnet_id": subnet_id, "ip_address": ip})
    return result


def binding(session: Session, row: Port) -> dict:
    """``binding:vif_type`` and ``binding:vif_details`` of a port: unbound without a host,
    else as the datapath plugs it (``Env.describe`` puts that in the session); the linux
    datapath names the port's bridge (``bridge_name``, as Neutron's linuxbridge does)."""
    if not row.binding_host_id:
        return {"binding:vif_type": "unbound", "binding:vif_details": {}}
    vif_type, details = session.info.get("vif", ("ovs", {"port_filter": True}))
    if vif_type == "tap":
        details = {**details, "bridge_name": LinuxDriver.bridge_name(row.network_id)}
    return {"binding:vif_type": vif_type, "binding:vif_details": dict(details)}


def network_policies_of(session: Session, network_ids: set[str]) -> dict[str, str | None]:
    """network -> its QoS policy (a port's ``qos_network_policy_id``), in one query."""
    if not network_ids:
        return {}
    return {network_id: policy_id for network_id, policy_id in session.execute(
        sa.select(Network.id, Network.qos_policy_id).where(Network.id.in_(sorted(network_ids))))}


def ports(session: Session, rows: list[Port]) -> list[dict]:
    ids = [r.id for r in rows]
    return _ports(session, rows, tags_of(session, ids), fixed_ips_of(session, ids), trunk_details_of(session, ids),
                  network_policies_of(session, {r.network_id for r in rows}))


def new_port(session: Session, row: Port, network: Network, addresses: list[dict] | None = None) -> dict:
    """A port this transaction has just inserted (``ports.create``, once per server a build
    gives a port): it has no tags and is no trunk's parent yet (both would name it, and
    nothing else has seen it), and its network is at hand -- only its addresses are read,
    unless the caller has them (``addresses``: what IPAM just allocated, in the order of
    their rows, as :func:`fixed_ips_of` reads them)."""
    ips = {row.id: [dict(a) for a in addresses]} if addresses is not None else fixed_ips_of(session, [row.id])
    return _ports(session, [row], {}, ips, {}, {network.id: network.qos_policy_id})[0]


def _ports(session: Session, rows: list[Port], tags: dict[str, list[str]], ips: dict[str, list[dict]],
           trunk_details: dict[str, dict], network_policies: dict[str, str | None]) -> list[dict]:
    return [{**_standard(r, tags), "network_id": r.network_id, "mac_address": r.mac_address,
             "admin_state_up": r.admin_state_up, "status": r.status, "device_id": r.device_id,
             "device_owner": r.device_owner, "fixed_ips": ips.get(r.id, []),
             "allowed_address_pairs": r.allowed_address_pairs, "extra_dhcp_opts": r.extra_dhcp_opts,
             "security_groups": r.security_groups, "port_security_enabled": r.port_security_enabled,
             "binding:host_id": r.binding_host_id, "binding:vnic_type": r.binding_vnic_type,
             "binding:profile": r.binding_profile,
             **binding(session, r), "qos_policy_id": r.qos_policy_id,
             "qos_network_policy_id": network_policies.get(r.network_id),
             "propagate_uplink_status": False,
             **({"trunk_details": trunk_details[r.id]} if r.id in trunk_details else {})} for r in rows]


def _subports(session: Session, trunk_ids: list[str]) -> dict[str, list[dict]]:
    """trunk -> its subports (``port_id``, ``segmentation_type``, ``segmentation_id`` and,
    for ``trunk_details``, ``mac_address``), by segmentation."""
    result: dict[str, list[dict]] = defaultdict(list)
    if trunk_ids:
        for member, mac in session.execute(
                sa.select(TrunkPort, Port.mac_address).join(Port, Port.id == TrunkPort.port_id)
                .where(TrunkPort.trunk_id.in_(trunk_ids), TrunkPort.role == SUBPORT)
                .order_by(TrunkPort.segmentation_type, TrunkPort.segmentation_id)):
            result[member.trunk_id].append({"segmentation_type": member.segmentation_type, "port_id": member.port_id,
                                            "segmentation_id": member.segmentation_id, "mac_address": mac})
    return result


def trunk_details_of(session: Session, port_ids: list[str]) -> dict[str, dict]:
    """port -> ``trunk_details`` (trunk-details extension), for the ports that are a trunk's parent."""
    if not port_ids:
        return {}
    parents = {trunk_id: port_id for trunk_id, port_id in session.execute(
        sa.select(TrunkPort.trunk_id, TrunkPort.port_id).where(TrunkPort.port_id.in_(port_ids),
                                                               TrunkPort.role == PARENT))}
    subports = _subports(session, list(parents))
    return {port_id: {"trunk_id": trunk_id, "sub_ports": subports.get(trunk_id, [])}
            for trunk_id, port_id in parents.items()}


def trunks(session: Session, rows: list[Trunk]) -> list[dict]:
    ids = [r.id for r in rows]
    tags, subports = tags_of(session, ids), _subports(session, ids)
    return [{**_standard(r, tags), "admin_state_up": r.admin_state_up, "port_id": r.port_id, "status": r.status,
             "sub_ports": [{k: v for k, v in s.items() if k != "mac_address"} for s in subports.get(r.id, [])]}
            for r in rows]


def normalized_cidr(prefix: str | None) -> str | None:
    """The network a rule's ``remote_ip_prefix`` names (``10.2.3.124/24`` -> ``10.2.3.0/24``):
    Neutron keeps the prefix as given and shows this beside it."""
    return str(ipaddress.ip_network(prefix, strict=False)) if prefix else None


def rule(r: SecurityGroupRule) -> dict:
    return {"id": r.id, "project_id": r.project_id, "tenant_id": r.project_id,
            "security_group_id": r.security_group_id, "direction": r.direction, "ethertype": r.ethertype,
            "protocol": r.protocol, "port_range_min": r.port_range_min, "port_range_max": r.port_range_max,
            "remote_ip_prefix": r.remote_ip_prefix, "normalized_cidr": normalized_cidr(r.remote_ip_prefix),
            "remote_group_id": r.remote_group_id, "remote_address_group_id": r.remote_address_group_id,
            "description": r.description, "created_at": r.created_at, "updated_at": r.updated_at,
            "revision_number": r.revision_number, "belongs_to_default_sg": None}


def security_groups(session: Session, rows: list[SecurityGroup]) -> list[dict]:
    ids = [r.id for r in rows]
    rules: dict[str, list[dict]] = defaultdict(list)
    if ids:
        for r in session.scalars(sa.select(SecurityGroupRule).where(SecurityGroupRule.security_group_id.in_(ids))
                                 .order_by(SecurityGroupRule.created_at, SecurityGroupRule.id)):
            rules[r.security_group_id].append(rule(r))
    tags = tags_of(session, ids)
    shared = _shared(session, SecurityGroup, rows)
    return [{**_standard(r, tags), "stateful": r.stateful, "shared": r.id in shared,
             "security_group_rules": rules.get(r.id, [])} for r in rows]


def routers(session: Session, rows: list[Router]) -> list[dict]:
    tags = tags_of(session, [r.id for r in rows])
    gw_ips = fixed_ips_of(session, [r.gw_port_id for r in rows if r.gw_port_id])
    result = []
    for r in rows:
        gateway = None
        if r.external_network_id:
            gateway = {"network_id": r.external_network_id, "enable_snat": r.enable_snat,
                       "external_fixed_ips": gw_ips.get(r.gw_port_id or "", [])}
        result.append({**_standard(r, tags), "admin_state_up": r.admin_state_up, "status": r.status,
                       "external_gateway_info": gateway, "routes": r.routes, "distributed": False, "ha": False,
                       "flavor_id": r.flavor_id, "availability_zone_hints": [], "availability_zones": ["nova"]})
    return result


def port_details(session: Session, port_ids: set[str]) -> dict[str, dict]:
    """The ``fip-port-details`` summary of each associated port, in one query."""
    if not port_ids:
        return {}
    return {p.id: {"name": p.name, "network_id": p.network_id, "mac_address": p.mac_address,
                   "admin_state_up": p.admin_state_up, "status": p.status, "device_id": p.device_id,
                   "device_owner": p.device_owner}
            for p in session.scalars(sa.select(Port).where(Port.id.in_(sorted(port_ids))))}


def floatingips(session: Session, rows: list[FloatingIp]) -> list[dict]:
    tags = tags_of(session, [r.id for r in rows])
    details = port_details(session, {r.port_id for r in rows if r.port_id})
    return [{**_standard(r, tags), "floating_ip_address": r.floating_ip_address,
             "floating_network_id": r.floating_network_id, "router_id": r.router_id, "port_id": r.port_id,
             "fixed_ip_address": r.fixed_ip_address, "status": r.status, "qos_policy_id": None,
             "port_forwardings": [], "port_details": details.get(r.port_id) if r.port_id else None} for r in rows]


# rule type -> the attributes its rules show besides ``id`` (Neutron's sub-resource maps).
QOS_RULE_ATTRIBUTES = {"bandwidth_limit": ("max_kbps", "max_burst_kbps", "direction"),
                       "dscp_marking": ("dscp_mark",), "minimum_bandwidth": ("min_kbps", "direction")}


def qos_rule(r: QosRule) -> dict:
    """A rule as its own routes show it (``/qos/policies/{id}/<type>_rules``)."""
    return {"id": r.id, **{a: getattr(r, a) for a in QOS_RULE_ATTRIBUTES[r.type]}}


def qos_policies(session: Session, rows: list[QosPolicy]) -> list[dict]:
    """Policies with their rules embedded as Neutron's policy object shows them (with
    ``qos_policy_id`` and ``type``, grouped by type in the order of Neutron's
    ``VALID_RULE_TYPES``, alphabetical for these), and whether each is its project's default."""
    ids = [r.id for r in rows]
    rules: dict[str, list[dict]] = defaultdict(list)
    if ids:
        for r in session.scalars(sa.select(QosRule).where(QosRule.qos_policy_id.in_(ids))
                                 .order_by(QosRule.type, QosRule.created_at, QosRule.id)):
            rules[r.qos_policy_id].append({**qos_rule(r), "qos_policy_id": r.qos_policy_id, "type": r.type})
    defaults = set(session.scalars(sa.select(QosDefaultPolicy.qos_policy_id)
                                   .where(QosDefaultPolicy.qos_policy_id.in_(ids)))) if ids else set()
    tags = tags_of(session, ids)
    shared = _shared(session, QosPolicy, rows)
    return [{**_standard(r, tags), "shared": r.id in shared, "is_default": r.id in defaults,
             "rules": rules.get(r.id, [])} for r in rows]


def metering_labels(session: Session, rows: list[MeteringLabel]) -> list[dict]:
    """Neutron's metering label: no standard attributes."""
    return [{"id": r.id, "name": r.name, "description": r.description, "shared": r.shared,
             "project_id": r.project_id, "tenant_id": r.project_id} for r in rows]


def metering_label_rules(session: Session, rows: list[MeteringLabelRule]) -> list[dict]:
    """A metering label rule, with its label's project as ``project_id`` for policy checks
    only (Neutron shows no project on a rule: render.INVISIBLE)."""
    owners: dict[str, str] = {}
    if rows:
        owners = {label_id: project_id for label_id, project_id in session.execute(
            sa.select(MeteringLabel.id, MeteringLabel.project_id).where(
                MeteringLabel.id.in_(sorted({r.metering_label_id for r in rows}))))}
    return [{"id": r.id, "metering_label_id": r.metering_label_id, "direction": r.direction,
             "remote_ip_prefix": r.remote_ip_prefix, "source_ip_prefix": r.source_ip_prefix,
             "destination_ip_prefix": r.destination_ip_prefix, "excluded": r.excluded,
             "project_id": owners.get(r.metering_label_id)} for r in rows]


def metering_label_with_rules(session: Session, label: MeteringLabel) -> dict:
    """What the datapath is told of a label: the label and all its rules."""
    rules = list(session.scalars(sa.select(MeteringLabelRule).where(MeteringLabelRule.metering_label_id == label.id)
                                 .order_by(MeteringLabelRule.id)))
    return {**metering_labels(session, [label])[0], "rules": metering_label_rules(session, rules)}


def flavors(session: Session, rows: list[Flavor]) -> list[dict]:
    """Neutron's service flavor: its bound profiles' ids as ``service_profiles``."""
    bound: dict[str, list[str]] = defaultdict(list)
    if rows:
        for flavor_id, profile_id in session.execute(
                sa.select(FlavorServiceProfile.flavor_id, FlavorServiceProfile.service_profile_id)
                .where(FlavorServiceProfile.flavor_id.in_([r.id for r in rows]))
                .order_by(FlavorServiceProfile.service_profile_id)):
            bound[flavor_id].append(profile_id)
    return [{"id": r.id, "name": r.name, "description": r.description, "service_type": r.service_type,
             "enabled": r.enabled, "service_profiles": bound.get(r.id, [])} for r in rows]


def service_profiles(session: Session, rows: list[ServiceProfile]) -> list[dict]:
    return [{"id": r.id, "description": r.description, "driver": r.driver, "enabled": r.enabled,
             "metainfo": r.metainfo} for r in rows]


RENDERERS: dict[type, Callable[[Session, list], list[dict]]] = {
    Network: networks, Subnet: subnets, SubnetPool: subnetpools, Port: ports, SecurityGroup: security_groups,
    Router: routers, FloatingIp: floatingips, AddressScope: address_scopes, RbacPolicy: rbac_policies,
    Trunk: trunks, QosPolicy: qos_policies, AddressGroup: address_groups, MeteringLabel: metering_labels,
    MeteringLabelRule: metering_label_rules, Flavor: flavors, ServiceProfile: service_profiles}


def render(session: Session, rows: list) -> list[dict]:
    if not rows:
        return []
    return RENDERERS[type(rows[0])](session, rows)


def render_one(session: Session, row) -> dict:
    return render(session, [row])[0]
