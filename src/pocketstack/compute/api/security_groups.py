"""``/os-security-groups``, ``/os-security-group-rules`` and
``/servers/{id}/os-security-groups``: Nova's proxy of Networking security groups
(deprecated, gone from microversion 2.36), and the add/removeSecurityGroup server actions.

Everything is done by the network service with the caller's own credentials; this
module translates Nova's shapes and checks (name and description both required, rule
ports by protocol, a duplicate rule is a 400) and Nova's error mapping of Neutron's
answers (a 409 from Neutron, such as deleting the default group, is Nova's 400).
Only ingress rules are shown, as Nova shows them.
"""

from __future__ import annotations

import ipaddress
import uuid

import sqlalchemy as sa
from starlette.datastructures import QueryParams
from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.common.db import utcnow
from pocketstack.common.errors import Conflict, NotFound
from pocketstack.common.validation import validate
from pocketstack.compute import errors
from pocketstack.compute.api.common import get_instance, is_admin
from pocketstack.compute.api.schemas import security_groups as schemas
from pocketstack.compute.models import Instance


def _property(value, name: str) -> str:
    """Nova's ``validate_property``: non-empty and at most 255 characters once stripped;
    the value itself is kept as given (spaces included), as Nova keeps it."""
    if not isinstance(value, str):
        raise errors.InvalidSecurityGroupProperty(name=name, reason="is not a string or unicode")
    if not value.strip():
        raise errors.InvalidSecurityGroupProperty(name=name, reason="cannot be empty.")
    if len(value.strip()) > 255:
        raise errors.InvalidSecurityGroupProperty(name=name, reason="should not be greater than 255 characters.")
    return value


def _group_id(value) -> str:
    if not isinstance(value, str):
        value = str(value)
    try:
        uuid.UUID(value)
    except ValueError:
        raise errors.InvalidSecurityGroupId() from None
    return value


def _port(value, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise errors.InvalidPort(name=name, value=value) from None


def _rule_attrs(rule: dict) -> dict:
    """Nova's rule checks, then the Neutron rule they describe."""
    protocol = (rule.get("ip_protocol") or "").lower() or None
    if protocol not in (None, "tcp", "udp", "icmp"):
        raise errors.InvalidIpProtocol(protocol=rule.get("ip_protocol"))
    attrs: dict[str, object] = {"security_group_id": _group_id(rule["parent_group_id"]), "direction": "ingress",
                                "ethertype": "IPv4", "protocol": protocol}
    if protocol:
        lo, hi = _port(rule.get("from_port"), "from_port"), _port(rule.get("to_port"), "to_port")
        if protocol == "icmp":
            if not (-1 <= lo <= 255 and -1 <= hi <= 255):
                raise errors.InvalidIcmpRange(low=lo, high=hi)
            # -1 is "any" ICMP type or code: no bound in Neutron.
            attrs.update(port_range_min=None if lo == -1 else lo, port_range_max=None if hi == -1 else hi)
        elif not (1 <= lo <= hi <= 65535):
            raise errors.InvalidPortRange(low=lo, high=hi)
        else:
            attrs.update(port_range_min=lo, port_range_max=hi)
    elif rule.get("from_port") not in (None, "", -1, "-1") or rule.get("to_port") not in (None, "", -1, "-1"):
        raise errors.PortsNeedProtocol()
    if rule.get("group_id"):
        attrs["remote_group_id"] = _group_id(rule["group_id"])
    else:
        cidr = rule.get("cidr") or "0.0.0.0/0"
        try:
            network = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            raise errors.InvalidCidr(cidr=cidr) from None
        attrs["remote_ip_prefix"] = cidr  # as given, host bits included (Neutron keeps it so)
        attrs["ethertype"] = f"IPv{network.version}"
    return attrs


def _same_rule(existing: dict, attrs: dict) -> bool:
    keys = ("direction", "ethertype", "protocol", "port_range_min", "port_range_max", "remote_group_id")
    return all(existing.get(k) == attrs.get(k) for k in keys) and \
        (existing.get("remote_ip_prefix") or None) == (attrs.get("remote_ip_prefix") or None)


def check_names(compute, req: ApiRequest, names: list[str]) -> list[str]:
    """The names of the groups a server create asks for, each given by name or id; a
    group the project does not have is 400 (Nova).  Groups are stored (and shown) by
    name, as Nova shows each port's groups by name, once each."""
    manager = compute.cloud.network
    if manager is None or names == ["default"]:
        return names
    groups, _ = manager.list(req.caller, "security-groups", QueryParams([("project_id", req.caller.project_id)]))
    known = {g["name"]: g["name"] for g in groups} | {g["id"]: g["name"] or g["id"] for g in groups}
    for name in names:
        if name not in known:
            raise errors.SecurityGroupUnknownForProject(name=name, project_id=req.caller.project_id)
    return list(dict.fromkeys(known[name] for name in names))


def _swap_names(db, instance_id: str, old: list[str], new: list[str]) -> bool:
    """Compare-and-swap of the server's group names (the JSON text must still be ``old``)."""
    stmt = (sa.update(Instance).where(Instance.id == instance_id, Instance.security_groups == old)
            .values(security_groups=new, updated_at=utcnow()))
    with db.session() as s:
        return s.execute(stmt).rowcount == 1


def server_action(compute, record, req: ApiRequest, args, *, add: bool):
    """The addSecurityGroup / removeSecurityGroup server actions: change the group on every
    port of the server (through the network service, as the caller), then the group names
    the server shows, by a compare-and-swap on the list read."""
    rule = "os_compute_api:os-security-groups:add" if add else "os_compute_api:os-security-groups:remove"
    name = validate(args, schemas.SERVER_ACTION)["name"]
    inst = get_instance(compute, req, req.path_params["server_id"], rule)
    network = compute.cloud.network
    if network is None:
        raise errors.SecurityGroupsNeedNetwork()
    groups, _ = network.list(req.caller, "security-groups", QueryParams([("project_id", inst.project_id)]))
    group = next((g for g in groups if name in (g["name"], g["id"])), None)
    if group is None:
        raise errors.SecurityGroupNotFoundForProject(name=name, project_id=inst.project_id)
    ports = network.list_instance_ports(inst.id)  # the server's: the ones compute bound
    if not ports:
        raise errors.NoPortsForInstance(instance_id=inst.id)
    if not add and not any(group["id"] in (p["security_groups"] or []) for p in ports):
        raise errors.SecurityGroupNotAssociated(name=name, instance_id=inst.id)
    for port in ports:
        current = list(port["security_groups"] or [])
        wanted = sorted(set(current) | {group["id"]}) if add else [g for g in current if g != group["id"]]
        if wanted != current:
            network.update(req.caller, "ports", port["id"], {"security_groups": wanted})
    for _ in range(20):
        names = list(compute.instances.get(inst.id).security_groups)
        if add:
            new = names if group["name"] in names else names + [group["name"]]
        else:
            new = [n for n in names if n != group["name"]]
        if _swap_names(compute.db, inst.id, names, new):
            break
    record(req, inst, "addSecurityGroup" if add else "removeSecurityGroup")
    return Response(status_code=202)


def render_rule(rule: dict, groups: dict[str, dict], fetch) -> dict | None:
    """A Neutron rule in Nova's shape; ``groups`` names the groups already read, ``fetch``
    reads another (a rule whose peer group is gone can match nothing: None)."""
    lo, hi, protocol = rule["port_range_min"], rule["port_range_max"], rule["protocol"]
    if protocol and lo is None and hi is None:
        lo, hi = (1, 65535) if protocol.upper() in ("TCP", "UDP") else (-1, -1)
    out = {"id": rule["id"], "parent_group_id": rule["security_group_id"], "ip_protocol": protocol,
           "from_port": lo, "to_port": hi, "group": {}, "ip_range": {}}
    remote = rule.get("remote_group_id")
    if remote:
        try:
            group = groups.get(remote) or fetch(remote)
        except NotFound:  # the peer group is gone: the rule can match nothing (Neutron drops it)
            return None
        out["group"] = {"name": group["name"], "tenant_id": group["tenant_id"]}
    else:
        out["ip_range"] = {"cidr": rule.get("remote_ip_prefix") or "0.0.0.0/0"}
    return out


def group_attributes(data: dict) -> dict:
    """A create or update body's ``security_group`` as Neutron attributes."""
    return {"name": _property(data.get("name"), "name"),
            "description": _property(data.get("description"), "description")}


def neutron_call(call, *args):
    """Nova's mapping of Neutron's refusals: a conflict (in use, the default group) is 400."""
    try:
        return call(*args)
    except Conflict as error:
        raise errors.RefusedByAnotherService(reason=error.message) from None


RULE = "os_compute_api:os-security-groups:{}"


class SecurityGroupsApi:
    """The proxy: Nova checks the caller's role in its own project (the proxied group's
    owner is Neutron's to check): readers read, members change.  Gone from 2.36 (404
    after the policy check, as today), and without a network service."""

    def __init__(self, compute):
        self.compute = compute

    def network(self, req: ApiRequest):
        if req.at_least(2, 36):
            raise errors.ProxyGone()
        manager = self.compute.cloud.network
        if manager is None:
            raise errors.SecurityGroupsProxyNeedsNetwork()
        return manager

    @staticmethod
    def authorize(req: ApiRequest) -> None:
        req.authorize(target={"project_id": req.caller.project_id})

    def fetch(self, req: ApiRequest, group_id: str) -> dict:
        try:
            return self.network(req).get(req.caller, "security-groups", _group_id(group_id))
        except NotFound:
            raise errors.SecurityGroupNotFound(group_id=group_id) from None

    def render(self, req: ApiRequest, group: dict, names: dict[str, dict] | None = None) -> dict:
        names = names or {group["id"]: group}
        rules = [render_rule(r, names, lambda remote: self.fetch(req, remote))
                 for r in group.get("security_group_rules", []) if r["direction"] == "ingress"]
        return {"id": group["id"], "name": group["name"], "description": group.get("description") or "",
                "tenant_id": group["tenant_id"], "rules": [r for r in rules if r is not None]}

    @route.get("/v2.1/os-security-groups", policy=RULE.format("get"))
    def index(self, req: ApiRequest) -> dict:
        self.authorize(req)
        query = []
        if not (is_admin(req) and req.query.get("all_tenants")):
            query.append(("project_id", req.caller.project_id))
        groups, _ = self.network(req).list(req.caller, "security-groups", QueryParams(query))
        names = {g["id"]: g for g in groups}
        return {"security_groups": [self.render(req, g, names) for g in groups]}

    # Authorized before the body is validated (a 403 before a 400): no ``body=``.
    @route.post("/v2.1/os-security-groups", policy=RULE.format("create"))
    def create(self, req: ApiRequest) -> dict:
        self.authorize(req)
        attrs = group_attributes(validate(req.json(), schemas.GROUP)["security_group"])
        group = neutron_call(self.network(req).create, req.caller, "security-groups", attrs)
        return {"security_group": self.render(req, group)}

    @route.get("/v2.1/os-security-groups/{group_id}", policy=RULE.format("show"))
    def show(self, req: ApiRequest) -> dict:
        self.authorize(req)
        return {"security_group": self.render(req, self.fetch(req, req.path_params["group_id"]))}

    @route.put("/v2.1/os-security-groups/{group_id}", policy=RULE.format("update"))
    def update(self, req: ApiRequest) -> dict:
        self.authorize(req)
        data = validate(req.json(), schemas.GROUP)["security_group"]
        group = self.fetch(req, req.path_params["group_id"])
        attrs = group_attributes(data)
        group = neutron_call(self.network(req).update, req.caller, "security-groups", group["id"], attrs)
        return {"security_group": self.render(req, group)}

    @route.delete("/v2.1/os-security-groups/{group_id}", policy=RULE.format("delete"))
    def delete(self, req: ApiRequest) -> Response:
        self.authorize(req)
        group = self.fetch(req, req.path_params["group_id"])
        neutron_call(self.network(req).delete, req.caller, "security-groups", group["id"])
        return Response(status_code=202)

    @route.post("/v2.1/os-security-group-rules", policy=RULE.format("rule:create"))
    def create_rule(self, req: ApiRequest) -> dict:
        self.authorize(req)
        attrs = _rule_attrs(validate(req.json(), schemas.RULE)["security_group_rule"])
        parent = self.fetch(req, attrs["security_group_id"])
        if attrs.get("remote_group_id"):
            self.fetch(req, attrs["remote_group_id"])
        if any(_same_rule(r, attrs) for r in parent.get("security_group_rules", [])):
            raise errors.SecurityGroupRuleExists(group_id=parent["id"])
        rule = neutron_call(self.network(req).create_rule, req.caller, attrs)
        return {"security_group_rule": render_rule(rule, {parent["id"]: parent},
                                                   lambda remote: self.fetch(req, remote))}

    @route.delete("/v2.1/os-security-group-rules/{rule_id}", policy=RULE.format("rule:delete"))
    def delete_rule(self, req: ApiRequest) -> Response:
        self.authorize(req)
        rule_id = _group_id(req.path_params["rule_id"])
        try:
            self.network(req).delete_rule(req.caller, rule_id)
        except NotFound:
            raise errors.SecurityGroupRuleNotFound(rule_id=rule_id) from None
        return Response(status_code=202)

    @route.get("/v2.1/servers/{server_id}/os-security-groups", policy=RULE.format("list"))
    def server_groups(self, req: ApiRequest) -> dict:
        inst = get_instance(self.compute, req, req.path_params["server_id"], RULE.format("list"))
        manager = self.network(req)
        ports = manager.list_instance_ports(inst.id)  # the server's: the ones compute bound
        ids = sorted({g for p in ports for g in p.get("security_groups") or []})
        groups = [self.fetch(req, g) for g in ids]
        names = {g["id"]: g for g in groups}
        return {"security_groups": [self.render(req, g, names) for g in groups]}
