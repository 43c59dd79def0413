"""Security groups and rules, and the per-project ``default`` group.

The ``default`` group is created on first use.  Two first uses may race; the group is
keyed by a row in ``network_default_security_group`` (primary key ``project_id``)
inserted in the same savepoint as the group, so exactly one creation commits and the
loser reads the winner's group.
"""

from __future__ import annotations

import ipaddress

import sqlalchemy as sa

from pocketstack.common.db.cas import ConcurrentUpdate
from pocketstack.common.db.inserts import try_insert
from pocketstack.network import address_groups, errors, quota, rbac, store, views
from pocketstack.network.context import Work
from pocketstack.network.models import DefaultSecurityGroup, Port, SecurityGroup, SecurityGroupRule, Tag

PROTOCOLS = {"ah": 51, "dccp": 33, "egp": 8, "esp": 50, "gre": 47, "hopopt": 0, "icmp": 1, "igmp": 2,
             "ipip": 4, "ipv6-encap": 41, "ipv6-frag": 44, "ipv6-icmp": 58, "icmpv6": 58, "ipv6-nonxt": 59,
             "ipv6-opts": 60, "ipv6-route": 43, "ospf": 89, "pgm": 113, "rsvp": 46, "sctp": 132, "tcp": 6,
             "udp": 17, "udplite": 136, "vrrp": 112}
_PORT_PROTOCOLS = {"tcp", "udp", "sctp", "dccp", "udplite", "6", "17", "132", "33", "136"}
_ICMP_PROTOCOLS = {"icmp", "ipv6-icmp", "icmpv6", "1", "58"}
# Neutron's IPv6-only protocols, by name and number: no IPv4 rule names one.
_IPV6_ONLY = {"ipv6-encap", "ipv6-frag", "ipv6-icmp", "icmpv6", "ipv6-nonxt", "ipv6-opts", "ipv6-route",
              "41", "44", "58", "59", "60", "43"}
UPDATABLE = {"name", "description", "stateful"}


def _emit(w: Work, group: SecurityGroup) -> None:
    w.emit("security_group_updated", views.render_one(w.s, group))


def _add_rule(w: Work, group: SecurityGroup, claim=quota.claim, **fields) -> SecurityGroupRule:
    rule = SecurityGroupRule(project_id=group.project_id, security_group_id=group.id, **fields)
    w.s.add(rule)
    w.s.flush()
    claim(w, group.project_id, "security_group_rule", rule.id)
    return rule


def _new_group(w: Work, project_id: str, name: str, description: str, stateful: bool = True,
               default_rules: bool = True, claim=quota.claim) -> SecurityGroup:
    group = SecurityGroup(project_id=project_id, name=name, description=description, stateful=stateful)
    w.s.add(group)
    w.s.flush()
    claim(w, project_id, "security_group", group.id)
    for ethertype in ("IPv4", "IPv6"):
        _add_rule(w, group, claim, direction="egress", ethertype=ethertype)
        if default_rules:
            _add_rule(w, group, claim, direction="ingress", ethertype=ethertype, remote_group_id=group.id)
    return group


def default_group_id(w: Work, project_id: str) -> str:
    """The id of the project's ``default`` group, created if it does not exist yet (one
    query when it does: what a server's port needs, once per build)."""
    existing = w.s.get(DefaultSecurityGroup, project_id)
    return existing.security_group_id if existing is not None else default_group(w, project_id).id


def default_group(w: Work, project_id: str) -> SecurityGroup:
    """The project's ``default`` group, created (race-free) if it does not exist yet."""
    existing = w.s.get(DefaultSecurityGroup, project_id)
    if existing is not None:
        return w.s.get_one(SecurityGroup, existing.security_group_id)
    created: list[SecurityGroup] = []

    def insert() -> None:
        # The service's own group: counted when there is room, never refused (Neutron).
        group = _new_group(w, project_id, "default", "Default security group", claim=quota.claim_if_room)
        w.s.flush()
        w.s.execute(sa.insert(DefaultSecurityGroup).values(project_id=project_id, security_group_id=group.id))
        created.append(group)

    if try_insert(w.s, insert):
        _emit(w, created[0])
        return created[0]
    w.s.expire_all()
    existing = w.s.get(DefaultSecurityGroup, project_id)
    if existing is None:  # the winner rolled back after all: start again
        raise ConcurrentUpdate("default security group creation raced")
    return w.s.get_one(SecurityGroup, existing.security_group_id)


def _check_name(attrs: dict) -> None:
    """Neutron's ``name_not_default`` validator: no API call may name a group ``default``
    (any case); only the service creates the project's default group."""
    if str(attrs.get("name") or "").lower() == "default":
        raise errors.SecurityGroupDefaultAlreadyExists()


def create(w: Work, attrs: dict) -> SecurityGroup:
    project_id = w.owner(attrs)
    _check_name(attrs)
    # The caller's group is counted first: the default group made with it never takes
    # the room the caller asked for (Neutron's quota check precedes the plugin).
    group = _new_group(w, project_id, attrs.get("name") or "", attrs.get("description") or "",
                       attrs.get("stateful", True), default_rules=False)
    default_group(w, project_id)
    _emit(w, group)
    return group


def update(w: Work, group_id: str, attrs: dict, revision: int | None = None) -> SecurityGroup:
    group = store.fetch(w.s, SecurityGroup, w.ctx, group_id)
    store.check_updatable(attrs, UPDATABLE)
    _check_name(attrs)
    if group.name == "default" and "name" in attrs:
        raise errors.SecurityGroupCannotUpdateDefault()
    store.update_row(w.s, group, attrs, revision)
    _emit(w, group)
    return group


def delete(w: Work, group_id: str) -> None:
    group = store.fetch(w.s, SecurityGroup, w.ctx, group_id)
    if group.name == "default" and not w.ctx.is_admin:
        raise errors.SecurityGroupCannotRemoveDefault()
    used = w.s.scalar(sa.select(sa.func.count()).select_from(Port)
                      .where(sa.type_coerce(Port.security_groups, sa.Text).contains(f'"{group.id}"')))
    if used:
        raise errors.SecurityGroupInUse(id=group.id)
    rule_ids = list(w.s.scalars(sa.select(SecurityGroupRule.id).where(SecurityGroupRule.security_group_id == group.id)))
    quota.release(w.s, rule_ids + [group.id])
    rbac.release_quota(w.s, group.id)
    w.s.execute(sa.delete(SecurityGroupRule).where(SecurityGroupRule.security_group_id == group.id))
    w.s.execute(sa.delete(DefaultSecurityGroup).where(DefaultSecurityGroup.security_group_id == group.id))
    w.s.execute(sa.delete(Tag).where(Tag.resource_id == group.id))
    w.s.execute(sa.delete(SecurityGroup).where(SecurityGroup.id == group.id))
    w.emit("security_group_deleted", {"id": group.id, "project_id": group.project_id})


def _protocol(value) -> str | None:
    if value in (None, "", "any"):
        return None
    text = str(value).lower()
    if text in PROTOCOLS or (text.isdigit() and 0 <= int(text) <= 255):
        return text
    raise errors.SecurityGroupRuleInvalidProtocol(protocol=value, values=sorted(PROTOCOLS))


def _port_value(value) -> int | None:
    """A port bound as Neutron converts it: None, or an integer 0-65535 (else 400)."""
    if value is None:
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if not 0 <= number <= 65535 or isinstance(value, bool):
        raise errors.SecurityGroupInvalidPortValue(port=value)
    return number


def _port_range(protocol: str | None, lo, hi) -> tuple[int | None, int | None]:
    """Neutron's checks, in Neutron's order, so each bad rule gets Neutron's message."""
    lo, hi = _port_value(lo), _port_value(hi)
    if lo is None and hi is None:
        return None, None
    if protocol is None:
        raise errors.SecurityGroupProtocolRequiredWithPorts()
    if protocol in _PORT_PROTOCOLS:
        if lo == 0 or hi == 0:
            raise errors.SecurityGroupInvalidPortValue(port=0)
        if lo is None or hi is None or lo > hi:
            raise errors.SecurityGroupInvalidPortRange()
        return lo, hi
    if protocol in _ICMP_PROTOCOLS:
        for name, attr, value in (("type", "port_range_min", lo), ("code", "port_range_max", hi)):
            if value is not None and not 0 <= value <= 255:
                raise errors.SecurityGroupInvalidIcmpValue(field=name, attr=attr, value=value)
        if lo is None:
            raise errors.SecurityGroupMissingIcmpType(value=hi)
        return lo, hi
    if lo != hi:
        raise errors.SecurityGroupInvalidProtocolForPortRange(protocol=protocol)
    return lo, hi


def _duplicate_key(fields: dict) -> dict:
    """What makes two rules the same: the prefix is kept as given (``10.2.3.124/24``) but
    compared as the network it names, as Neutron's duplicate check does."""
    return dict(fields, remote_ip_prefix=views.normalized_cidr(fields["remote_ip_prefix"]))


def _check_one_remote(attrs: dict) -> None:
    """A rule's remote is an IP prefix, a security group or an address group: one at
    most (Neutron's ``_validate_multiple_remote_entites``)."""
    remotes = ("remote_ip_prefix", "remote_group_id", "remote_address_group_id")
    if sum(1 for key in remotes if attrs.get(key)) > 1:
        raise errors.SecurityGroupMultipleRemoteEntites()


def create_rule(w: Work, attrs: dict) -> SecurityGroupRule:
    group = store.fetch(w.s, SecurityGroup, w.ctx, attrs["security_group_id"])
    if not w.ctx.is_admin and group.project_id != w.ctx.project_id:
        # A group shared with the caller is used, not changed (admin_or_sg_owner).
        raise errors.PolicyNotAuthorized(action="create_security_group_rule")
    ethertype = attrs.get("ethertype") or "IPv4"
    direction = attrs["direction"]
    protocol = _protocol(attrs.get("protocol"))
    lo, hi = _port_range(protocol, attrs.get("port_range_min"), attrs.get("port_range_max"))
    prefix = attrs.get("remote_ip_prefix")
    remote_group = attrs.get("remote_group_id")
    _check_one_remote(attrs)
    if prefix:
        try:
            net = ipaddress.ip_network(prefix, strict=False)
        except ValueError:
            raise errors.InvalidInput(error_message=f"'{prefix}' is not a valid IP subnet") from None
        if f"IPv{net.version}" != ethertype:
            raise errors.SecurityGroupRuleParameterConflict(ethertype=ethertype, cidr=prefix)
    if ethertype == "IPv4" and protocol in _IPV6_ONLY:
        raise errors.SecurityGroupEthertypeConflictWithProtocol(ethertype=ethertype, protocol=protocol)
    if remote_group:
        store.fetch(w.s, SecurityGroup, w.ctx, remote_group)
    remote_address_group = attrs.get("remote_address_group_id")
    if remote_address_group:
        remote_address_group = address_groups.use(w, remote_address_group, group.project_id)
    fields = dict(direction=direction, ethertype=ethertype, protocol=protocol, port_range_min=lo,
                  port_range_max=hi, remote_ip_prefix=prefix, remote_group_id=remote_group,
                  remote_address_group_id=remote_address_group or None)
    key = _duplicate_key(fields)
    for existing in w.s.scalars(sa.select(SecurityGroupRule).where(SecurityGroupRule.security_group_id == group.id)):
        if _duplicate_key({k: getattr(existing, k) for k in fields}) == key:
            raise errors.SecurityGroupRuleExists(rule_id=existing.id)
    rule = _add_rule(w, group, description=attrs.get("description") or "", **fields)
    # The duplicate check read the group's rules: bumping the group by CAS makes a
    # racing identical create re-run and see this rule.
    store.bump(w.s, group)
    _emit(w, group)
    return rule


def fetch_rule(w: Work, rule_id: str) -> SecurityGroupRule:
    rule = w.s.get(SecurityGroupRule, rule_id)
    if rule is None or not (w.ctx.is_admin or rule.project_id == w.ctx.project_id):
        raise errors.SecurityGroupRuleNotFound(id=rule_id)
    return rule


def delete_rule(w: Work, rule_id: str) -> None:
    rule = fetch_rule(w, rule_id)
    group = w.s.get_one(SecurityGroup, rule.security_group_id)
    quota.release(w.s, [rule.id])
    w.s.execute(sa.delete(SecurityGroupRule).where(SecurityGroupRule.id == rule.id))
    store.bump(w.s, group)
    _emit(w, group)
