"""Reading and changing rows the way every Neutron resource does.

* visibility: admins see everything; others see their project's rows, the networks an
  RBAC policy shares with them or makes external for them (:mod:`.access`), subnets of
  networks shared with them (and of their own networks), the subnet pools, address
  scopes, security groups, QoS policies and address groups a policy shares with them (and the rules of
  the QoS policies they see) — an invisible row is a 404;
* list queries: filters on any attribute, ``tags``/``tags-any``/``not-tags``/
  ``not-tags-any``, ``sort_key``/``sort_dir`` and ``limit``/``marker`` paging (forwards,
  or backwards with ``page_reverse``; ``limit=0`` is none);
* updates: compare-and-swap on ``revision_number`` (the standard attribute doubles as
  the row's generation), which also honours ``If-Match: revision_number=N``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common.context import RequestContext
from pocketstack.common.db import utcnow
from pocketstack.common.db.cas import cas_update
from pocketstack.common.pagination import Paging, apply_paging, parse_paging
from pocketstack.common.validation import parse_bool
from pocketstack.network import access, errors
from pocketstack.network.models import (
    AddressGroup,
    AddressScope,
    Flavor,
    FloatingIp,
    IpAllocation,
    MeteringLabel,
    MeteringLabelRule,
    Network,
    Port,
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
)

KINDS = {Network: "Network", Subnet: "Subnet", SubnetPool: "SubnetPool", Port: "Port", Router: "Router",
         SecurityGroup: "SecurityGroup", SecurityGroupRule: "SecurityGroupRule", FloatingIp: "FloatingIP",
         AddressScope: "AddressScope", RbacPolicy: "RbacPolicy", Trunk: "Trunk", QosPolicy: "Policy",
         AddressGroup: "AddressGroup"}
NOT_FOUND: dict[type, type[errors.NeutronNotFound]] = {
    Network: errors.NetworkNotFound, Subnet: errors.SubnetNotFound, SubnetPool: errors.SubnetPoolNotFound,
    Port: errors.PortNotFound, Router: errors.RouterNotFound, SecurityGroup: errors.SecurityGroupNotFound,
    SecurityGroupRule: errors.SecurityGroupRuleNotFound, FloatingIp: errors.FloatingIPNotFound,
    AddressScope: errors.AddressScopeNotFound, RbacPolicy: errors.RbacPolicyNotFound,
    Trunk: errors.TrunkNotFound, QosPolicy: errors.QosPolicyNotFound, AddressGroup: errors.AddressGroupNotFound,
    MeteringLabel: errors.MeteringLabelNotFound, MeteringLabelRule: errors.MeteringLabelRuleNotFound,
    Flavor: errors.FlavorNotFound, ServiceProfile: errors.ServiceProfileNotFound}

# API attribute -> column, where the two differ.
_ALIASES = {
    "tenant_id": "project_id", "router:external": "external", "provider:network_type": "network_type",
    "provider:physical_network": "physical_network", "provider:segmentation_id": "segmentation_id",
    "binding:host_id": "binding_host_id", "binding:vnic_type": "binding_vnic_type",
}
# Columns that are not filterable as plain values (JSON blobs, compare-and-swap counters).
_NOT_FILTERABLE = {"allocation_pools", "dns_nameservers", "host_routes", "prefixes", "allocated",
                   "allowed_address_pairs", "security_groups", "routes", "binding_profile", "generation", "addresses"}
_PAGING_KEYS = {"limit", "marker", "sort_key", "sort_dir", "fields", "page_reverse", "tags", "tags-any",
                "not-tags", "not-tags-any", "changed_since"}
_BIGINT_MIN, _BIGINT_MAX = -2 ** 63, 2 ** 63 - 1
_PROJECT = {"tenant_id", "project_id"}
# What a list sorts by: the attributes Neutron's API definitions mark ``is_sort_key``.  Those
# with no column here (availability zones, address groups…) are accepted and sort nothing.
_SORT_KEYS = {
    Network: {"id", "name", "admin_state_up", "status", "mtu", "availability_zone_hints"} | _PROJECT,
    Subnet: {"id", "name", "ip_version", "network_id", "subnetpool_id", "cidr", "gateway_ip", "enable_dhcp",
             "ipv6_ra_mode", "ipv6_address_mode"} | _PROJECT,
    SubnetPool: {"id", "name", "default_quota", "ip_version", "default_prefixlen", "min_prefixlen", "max_prefixlen",
                 "is_default", "shared"} | _PROJECT,
    Port: {"id", "name", "network_id", "admin_state_up", "mac_address", "device_id", "device_owner", "status",
           "ip_allocation"} | _PROJECT,
    Router: {"id", "name", "admin_state_up", "status", "enable_snat", "flavor_id"} | _PROJECT,
    FloatingIp: {"id", "floating_ip_address", "floating_network_id", "router_id", "fixed_ip_address",
                 "status"} | _PROJECT,
    SecurityGroup: {"id", "name"} | _PROJECT,
    SecurityGroupRule: {"id", "security_group_id", "remote_group_id", "direction", "protocol", "port_range_min",
                        "port_range_max", "ethertype", "remote_ip_prefix", "normalized_cidr",
                        "remote_address_group_id"} | _PROJECT,
    AddressScope: {"id", "name", "ip_version", "shared"} | _PROJECT,
    RbacPolicy: {"id", "object_type", "object_id", "action", "target_tenant"} | _PROJECT,
    Trunk: {"id", "name", "admin_state_up", "port_id", "status"} | _PROJECT,
    QosPolicy: {"id", "name"} | _PROJECT,
    AddressGroup: {"id", "name", "description"} | _PROJECT,
    QosRule: {"id", "max_kbps", "max_burst_kbps", "direction", "min_kbps", "dscp_mark"},
    MeteringLabel: {"id", "name", "description", "shared"} | _PROJECT,
    MeteringLabelRule: {"id", "metering_label_id", "direction", "excluded", "remote_ip_prefix", "source_ip_prefix",
                        "destination_ip_prefix"},
    Flavor: {"id", "name", "description", "service_type", "enabled"},
    ServiceProfile: {"id", "description", "driver", "metainfo", "enabled"},
}


# Listed in Neutron through its object layer's Pager, which drops a marker the caller
# cannot see (the list starts from the beginning) where the other lists answer 404.
_PAGER_LISTED = {QosPolicy, SubnetPool, MeteringLabel, MeteringLabelRule, Flavor, ServiceProfile}


def visible_clause(model, ctx: RequestContext):
    """The WHERE clause of what ``ctx`` may see of ``model``."""
    if ctx.is_admin:
        return sa.true()
    if model is QosRule:
        # A rule is seen with its policy.
        return QosRule.qos_policy_id.in_(sa.select(QosPolicy.id).where(visible_clause(QosPolicy, ctx)))
    if model in (Flavor, ServiceProfile):
        return sa.true()  # no project: who reads them is the policy's to say
    if model is MeteringLabelRule:
        # A rule is seen with its label.
        return MeteringLabelRule.metering_label_id.in_(
            sa.select(MeteringLabel.id).where(visible_clause(MeteringLabel, ctx)))
    own = model.project_id == ctx.project_id
    if model is Network:
        return sa.or_(own, Network.id.in_(access.granted(ctx.project_id)))
    if model in (SubnetPool, AddressScope, QosPolicy, SecurityGroup, AddressGroup):
        return sa.or_(own, access.shared_with(ctx.project_id, model))
    if model is Subnet:
        # Neutron's get_subnet: the subnet's or the network's owner, or a network shared
        # with the caller.  An external network is visible, but its subnets are not
        # unless shared.
        public = sa.select(Network.id).where(sa.or_(access.shared_with(ctx.project_id),
                                                    Network.project_id == ctx.project_id))
        return sa.or_(own, Subnet.network_id.in_(public))
    if model is Port:
        # Neutron's get_port: the port's project or its network's owner.
        return sa.or_(own, Port.network_id.in_(sa.select(Network.id).where(Network.project_id == ctx.project_id)))
    return own


def fetch(session: Session, model, ctx: RequestContext, resource_id: str):
    """The row ``resource_id`` if ``ctx`` may see it, else 404 ``<Kind>NotFound``."""
    row = session.scalar(sa.select(model).where(model.id == resource_id, visible_clause(model, ctx)))
    if row is None:
        raise NOT_FOUND[model](id=resource_id)
    return row


def column_for(model, attribute: str):
    name = _ALIASES.get(attribute, attribute)
    column = model.__table__.c.get(name)
    if column is None or name in _NOT_FILTERABLE:
        return None
    return getattr(model, name)


def _coerce(column, attribute: str, raw: str) -> Any:
    kind = column.type.python_type if hasattr(column.type, "python_type") else str
    if kind is bool:
        return parse_bool(raw, attribute)
    if kind is int:
        try:
            value = int(raw)
        except ValueError:
            value = None
        if value is None or not _BIGINT_MIN <= value <= _BIGINT_MAX:  # no database compares beyond 64 bits
            raise errors.InvalidFilterValue(value=raw, attribute=attribute)
        return value
    if raw == "" and column.nullable:
        return None
    return raw


def _tag_filters(model, query) -> list:
    clauses = []

    def tagged(tags: list[str]):
        return sa.select(Tag.resource_id).where(Tag.tag.in_(tags)).group_by(Tag.resource_id).having(
            sa.func.count(sa.distinct(Tag.tag)) == len(set(tags)))

    for key in ("tags", "tags-any", "not-tags", "not-tags-any"):
        values = [t for raw in query.getlist(key) for t in raw.split(",") if t]
        if not values:
            continue
        if key in ("tags", "not-tags"):
            clause = model.id.in_(tagged(values))
        else:
            clause = model.id.in_(sa.select(Tag.resource_id).where(Tag.tag.in_(values)))
        clauses.append(sa.not_(clause) if key.startswith("not-") else clause)
    return clauses


def _changed_since(model, query) -> list:
    """``changed_since=<ISO 8601>`` (standard-attr-timestamp): rows updated at or after it."""
    raw = query.get("changed_since")
    if raw is None or not hasattr(model, "updated_at"):  # no timestamps (address scopes, RBAC policies)
        return []
    try:
        since = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise errors.InvalidChangedSince(value=raw) from None
    if since.tzinfo is not None:
        since = since.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return [model.updated_at >= since]


def filter_clauses(model, query, skip: AbstractSet[str] = frozenset()) -> list:
    """WHERE clauses for every attribute filter in ``query`` (repeated keys mean "any of")."""
    clauses = _tag_filters(model, query) + _changed_since(model, query)
    for attribute in {k for k, _ in query.multi_items()}:
        if attribute in _PAGING_KEYS or attribute in skip:
            continue
        column = column_for(model, attribute)
        if column is None:
            continue  # like Neutron without filter-validation: unknown filters are ignored
        values = [_coerce(column, attribute, raw) for raw in query.getlist(attribute)]
        clauses.append(sa.or_(*(column.is_(None) if v is None else column == v for v in values)))
    return clauses


def paging_for(model, query) -> Paging:
    """``limit``/``marker`` paging and sorting as Neutron's ``get_sorts`` checks it (with
    its messages): as many ``sort_key`` as ``sort_dir`` values, sortable attributes only,
    ``asc`` or ``desc``."""
    keys, dirs = [k for k in query.getlist("sort_key") if k], [d for d in query.getlist("sort_dir") if d]
    if len(keys) != len(dirs):
        raise errors.SortKeysMismatch()
    absent = [k for k in keys if k not in _SORT_KEYS[model]]
    if absent:
        raise errors.InvalidSortKey(keys=absent)
    invalid = [d for d in dirs if d not in ("asc", "desc")]
    if invalid:
        raise errors.InvalidSortDir(dirs=invalid)
    items = [(k, v) for k, v in query.multi_items() if k in ("limit", "marker")]
    for key, direction in zip(keys, dirs):
        if column_for(model, key) is not None:
            items += [("sort_key", _ALIASES.get(key, key)), ("sort_dir", direction)]
    paging = parse_paging(_MultiDict(items), default_sort=(("id", "asc"),))
    if paging.limit == 0:  # Neutron's "no pagination": every row, the marker ignored
        return Paging(sort=paging.sort)
    return paging


def page_reverse(query) -> bool:
    """Neutron's ``page_reverse=True`` (with a ``limit``): the page *before* the marker
    (the last page without one), still in the listing's order."""
    return str(query.get("page_reverse", "False")).lower() == "true"


class _MultiDict(Mapping):
    """A minimal read-only multi-dict for re-mapped query parameters."""

    def __init__(self, items):
        self._items = list(items)

    def __getitem__(self, key):
        for k, v in self._items:
            if k == key:
                return v
        raise KeyError(key)

    def __iter__(self):
        return iter(dict(self._items))

    def __len__(self):
        return len(dict(self._items))

    def getlist(self, key):
        return [v for k, v in self._items if k == key]

    def multi_items(self):
        return list(self._items)


def shared_filter(model, ctx: RequestContext, query) -> list:
    """``shared=<bool>`` on the objects RBAC policies share: shared *with the caller's
    project* (by any RBAC policy for it or for all), as Neutron filters it -- not the
    wildcard flag alone."""
    # (An address group's ``shared`` is no filter in Neutron: ignored like any unknown one.)
    # A subnet is shared as its network is (no attribute of its own shows it).
    values = query.getlist("shared") if model is Subnet or model in access.TYPES and model is not AddressGroup else []
    if not values:
        return []
    wanted = [parse_bool(v, "shared") for v in values]
    if model is Subnet:
        clause = Subnet.network_id.in_(access.granted(ctx.project_id, (access.SHARED,)))
    else:
        clause = access.shared_with(ctx.project_id, model)
    return [sa.or_(*(clause if v else sa.not_(clause) for v in wanted))]


def list_rows(session: Session, model, ctx: RequestContext, query, extra: list | None = None,
              skip: AbstractSet[str] = frozenset()) -> tuple[list, Paging]:
    """Visible rows matching the query's filters, sorted and paged."""
    paging = paging_for(model, query)
    computed = shared_filter(model, ctx, query)
    if computed:
        skip = skip | {"shared"}
    stmt = sa.select(model).where(visible_clause(model, ctx), *filter_clauses(model, query, skip), *computed,
                                  *(extra or []))
    marker_row = None
    if paging.marker:
        marker_row = session.scalar(sa.select(model).where(model.id == paging.marker, visible_clause(model, ctx)))
        if marker_row is None and model not in _PAGER_LISTED:
            raise NOT_FOUND[model](id=paging.marker)
    if not (paging.limit and page_reverse(query)):
        return list(session.scalars(apply_paging(stmt, model, paging, marker_row))), paging
    # Backwards from the marker: the opposite order, then the page turned round.
    backwards = dataclasses.replace(paging, sort=[(k, "asc" if d == "desc" else "desc") for k, d in paging.sort])
    return list(session.scalars(apply_paging(stmt, model, backwards, marker_row)))[::-1], paging


def port_filters(query) -> list:
    """The port listing's own filters: fixed IPs and security groups."""
    return port_ip_filter(query) + port_security_group_filter(query)


def port_security_group_filter(query) -> list:
    """``security_groups=<id>`` (repeated: any of them), Neutron's
    port-security-groups-filtering.  A port's groups are a JSON list of ids in one text
    column, so a group is matched as its quoted id in that text (LIKE, with ``%`` and
    ``_`` escaped): one SQL condition on every backend, paged like any other filter."""
    groups = query.getlist("security_groups")
    if not groups:
        return []
    text = sa.type_coerce(Port.security_groups, sa.Text)
    return [sa.or_(*(text.contains(json.dumps(group), autoescape=True) for group in groups))]


def port_ip_filter(query) -> list:
    """``fixed_ips=ip_address=X`` / ``fixed_ips=subnet_id=Y`` (and ``ip_address_substr``)."""
    clauses = []
    for raw in query.getlist("fixed_ips"):
        key, _, value = raw.partition("=")
        column = {"ip_address": IpAllocation.ip_address, "subnet_id": IpAllocation.subnet_id,
                  "ip_address_substr": IpAllocation.ip_address}.get(key)
        if column is None:
            raise errors.InvalidFixedIpsFilter(value=raw)
        cond = column.contains(value) if key == "ip_address_substr" else column == value
        clauses.append(Port.id.in_(sa.select(IpAllocation.port_id).where(cond)))
    return clauses


def update_row(session: Session, row, values: dict, expected_revision: int | None = None) -> None:
    """Apply ``values`` by compare-and-swap on the revision number; bumps it and updated_at
    (also when ``values`` is empty: the caller changed something the resource shows).

    A concurrent change raises :class:`ConcurrentUpdate` (the transaction re-runs on
    fresh data) unless the caller pinned a revision with If-Match, which is a 412.
    """
    if expected_revision is not None and expected_revision != row.revision_number:
        raise errors.RevisionNumberConstraintFailed()
    values = dict(values, revision_number=row.revision_number + 1, updated_at=utcnow())
    cas_update(session, type(row), where={"id": row.id, "revision_number": row.revision_number}, values=values)
    session.expire(row)


def bump(session: Session, row) -> None:
    """A change to something a resource shows (its subnets, rules, interfaces) is a new revision."""
    update_row(session, row, {})


def check_updatable(attrs: dict, updatable: set[str]) -> None:
    """Neutron's "Cannot update read-only attribute X" for one set only on create
    (``network_id``, ``cidr``...), naming the first."""
    fixed = sorted(set(attrs) - updatable)
    if fixed:
        raise errors.ReadOnlyAttribute(attribute=fixed[0])
