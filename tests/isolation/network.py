"""Networking (Neutron v2.0) in the isolation matrix: networks, subnets, subnet pools,
address scopes, RBAC policies, ports, routers and their interfaces, floating IPs,
security groups and rules, tags, quotas, agents, service providers and availability
zones, trunks and their subports; plus the ports a member may not make on networks it does not own, and what a
network shared with project B through an RBAC policy lets B do, and what B may do with
a security group, subnet pool, address scope or QoS policy shared with it (read, not
change).

Neutron (neutron/pecan_wsgi/hooks/policy_enforcement.py) answers 404 when the caller
may not even see the resource it updates or deletes, 403 when it may see it but not
change it, and 403 to a create the policy refuses; ``create_port`` asks for the admin,
the network owner or a shared network (neutron/conf/policies/port.py), and
``device_owner: network:*`` for the admin or the network owner.  An RBAC policy is its
owner's alone (the target project does not see it); sharing a network the caller does
not see is Neutron's 400 InvalidInput.  A trunk is its project's (neutron/conf/policies/trunk.py:
members change it and its subports, readers read them); a port of another project is
not found, so it is no parent (or subport) of the caller's trunk.  (Address groups:
network_address_groups.py.)
"""

from __future__ import annotations

from conftest import unique
from isolation.matrix import (
    ADMIN_ONLY,
    BAD_REQUEST,
    CONFLICT,
    CREATE,
    EVERYONE,
    FORBIDDEN,
    LISTED,
    NOT_FOUND,
    OK,
    OWN_LIST,
    OWN_READ,
    OWN_WRITE,
    UNLISTED,
    Op,
    Resource,
    expect,
)

N = "/network/v2.0"
# Seen by everyone (an external network): only the admin may change it (403: visible).
VISIBLE_ADMIN_WRITES = expect(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN)
# What only the admin sees: others are told it does not exist.
ADMIN_SEES = expect(OK, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND)
# A create on project A's network (subnet, port): other projects are refused (403, the
# policy names the network's owner: Neutron fetches it with an admin context).
CREATE_ON_A = expect(OK, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN)
PROJECT_A_READ = expect(OK, OK, OK, FORBIDDEN, FORBIDDEN)
# Neutron evaluates create_port/create_subnet/create_security_group_rule with the parent's
# owner fetched under an admin context (neutron/policy.py OwnerCheck) and answers a refused
# POST with 403 (neutron/pecan_wsgi/hooks/policy_enforcement.py).


def unlimited_quotas(w, project_id: str) -> None:
    w.call("PUT", f"{N}/quotas/{project_id}", json={"quota": {
        "network": -1, "subnet": -1, "port": -1, "router": -1, "floatingip": -1, "security_group": -1,
        "security_group_rule": -1, "subnetpool": -1, "rbac_policy": -1}})


def create(w, persona: str, collection: str, member: str, body: dict) -> dict:
    return w.call("POST", f"{N}/{collection}", persona, json={member: body}).json()[member]


def make_external_network(w) -> dict:
    """The admin's external (not shared) network with a subnet: floating IPs come from it."""
    network = create(w, "admin", "networks", "network", {"name": unique("iso-ext"), "router:external": True})
    subnet = create(w, "admin", "subnets", "subnet", {"network_id": network["id"], "ip_version": 4,
                                                       "cidr": "203.0.113.0/24"})
    return {"id": network["id"], "subnet": subnet["id"]}


def network_in(persona: str, cidr: str):
    def make(w) -> dict:
        network = create(w, persona, "networks", "network", {"name": unique("iso-net")})
        subnet = create(w, persona, "subnets", "subnet", {"network_id": network["id"], "ip_version": 4,
                                                          "cidr": cidr})
        return {"id": network["id"], "subnet": subnet["id"]}
    return make


def make_subnet(w) -> dict:
    """A subnet of its own network (subnets of one network may not overlap)."""
    network = network_in("a_member", "10.2.0.0/24")(w)
    return {"id": network["subnet"], "network": network["id"]}


def make_subnetpool(w) -> dict:
    pool = create(w, "a_member", "subnetpools", "subnetpool", {"name": unique("iso-pool"),
                                                                "prefixes": ["10.200.0.0/16"]})
    return {"id": pool["id"]}


def make_port(w) -> dict:
    port = create(w, "a_member", "ports", "port", {"network_id": str(w.shared("network")), "name": unique("iso-p")})
    return {"id": port["id"]}


def make_grouped_port(w) -> dict:
    """A port of A's in a security group of its own (for the ``security_groups`` filter)."""
    group = str(w.fresh("security_group"))
    port = create(w, "a_member", "ports", "port", {"network_id": str(w.shared("network")), "security_groups": [group],
                                                   "extra_dhcp_opts": [{"opt_name": "bootfile-name",
                                                                        "opt_value": "iso.0"}]})
    return {"id": port["id"], "group": group}


def make_router(w) -> dict:
    return {"id": create(w, "a_member", "routers", "router", {"name": unique("iso-router")})["id"]}


def make_interface_router(w) -> dict:
    """A router and a subnet not yet on it (for add_router_interface)."""
    return {"id": make_router(w)["id"], "subnet": make_subnet(w)["id"]}


def make_attached_router(w) -> dict:
    """A router with a subnet on it (for remove_router_interface)."""
    router = make_interface_router(w)
    w.call("PUT", f"{N}/routers/{router['id']}/add_router_interface", "a_member", json={"subnet_id": router["subnet"]})
    return router


def make_floatingip(w) -> dict:
    fip = create(w, "a_member", "floatingips", "floatingip", {"floating_network_id": str(w.shared("external_network"))})
    return {"id": fip["id"]}


def make_security_group(w) -> dict:
    group = create(w, "a_member", "security-groups", "security_group", {"name": unique("iso-sg")})
    return {"id": group["id"]}


def make_security_group_rule(w) -> dict:
    """A rule in a group of its own (one group holds no two equal rules)."""
    rule = create(w, "a_member", "security-group-rules", "security_group_rule", {
        "security_group_id": str(w.fresh("security_group")), "direction": "ingress", "protocol": "tcp",
        "port_range_min": 22, "port_range_max": 22})
    return {"id": rule["id"]}


def make_tagged_network(w) -> dict:
    network = create(w, "a_member", "networks", "network", {"name": unique("iso-tagged")})
    w.call("PUT", f"{N}/networks/{network['id']}/tags/t1", "a_member")
    return {"id": network["id"]}


def make_agent(w) -> dict:
    """A registered agent that stopped heartbeating (so changing it harms no one), serving
    DHCP and routers as a Linux datapath agent does: its own row (``id``) and its ``l3``
    and ``dhcp`` rows."""
    from pocketstack.network import agent_records
    from pocketstack.network.drivers.base import DHCP_AGENT, L3_AGENT

    network = w.api.cloud.service("network")
    host = unique("iso-agent-host")
    agent_records.register(w.api.cloud.db, host, {"datapath_driver": "linux"}, serves=(DHCP_AGENT, L3_AGENT))
    rows = {a["agent_type"]: a["id"] for a in network.agents.list() if a["host"] == host}
    w.on_close(lambda: [network.agents.delete(agent_id) for agent_id in rows.values()])
    return {"id": rows[agent_records.AGENT_TYPE], "l3": rows[L3_AGENT], "dhcp": rows[DHCP_AGENT]}


def make_hosting_agent(w) -> dict:
    """An agent hosting one of project A's routers and the DHCP of one of its networks."""
    agent = make_agent(w)
    router = make_router(w)["id"]
    network = network_in("a_member", "10.4.0.0/24")(w)["id"]
    w.call("POST", f"{N}/agents/{agent['l3']}/l3-routers", json={"router_id": router}, status=201)
    w.call("POST", f"{N}/agents/{agent['dhcp']}/dhcp-networks", json={"network_id": network}, status=201)
    return {**agent, "router": router, "network": network}


def make_shared_network(w) -> dict:
    """The admin's shared network (every project may put ports on it) with a subnet."""
    network = create(w, "admin", "networks", "network", {"name": unique("iso-shared"), "shared": True})
    subnet = create(w, "admin", "subnets", "subnet", {"network_id": network["id"], "ip_version": 4,
                                                       "cidr": "10.50.0.0/24"})
    return {"id": network["id"], "subnet": subnet["id"]}


def make_address_scope(w) -> dict:
    scope = create(w, "a_member", "address-scopes", "address_scope", {"name": unique("iso-as"), "ip_version": 4})
    return {"id": scope["id"]}


def _share_with_b(w, network_id: str) -> dict:
    return create(w, "a_member", "rbac-policies", "rbac_policy", {
        "object_type": "network", "object_id": network_id, "action": "access_as_shared",
        "target_tenant": str(w.project("b"))})


def make_rbac_policy(w) -> dict:
    """A's policy sharing one of A's networks with project B."""
    return {"id": _share_with_b(w, network_in("a_member", "10.6.0.0/24")(w)["id"])["id"]}


def make_rbac_shared_network(w) -> dict:
    """A's network with a subnet, shared with project B (only) by an RBAC policy."""
    network = network_in("a_member", "10.7.0.0/24")(w)
    _share_with_b(w, network["id"])
    return network


def _grant_b(w, persona: str, object_type: str, object_id: str) -> None:
    create(w, persona, "rbac-policies", "rbac_policy", {
        "object_type": object_type, "object_id": object_id, "action": "access_as_shared",
        "target_tenant": str(w.project("b"))})


def make_rbac_shared_security_group(w) -> dict:
    """A's security group, shared with project B (only) by an RBAC policy."""
    group = make_security_group(w)
    _grant_b(w, "a_member", "security_group", group["id"])
    return group


def make_rbac_shared_subnetpool(w) -> dict:
    """A's subnet pool, shared with project B (only) by an RBAC policy."""
    pool = create(w, "a_member", "subnetpools", "subnetpool", {"name": unique("iso-rbac-pool"),
                                                                "prefixes": ["10.202.0.0/16"]})
    _grant_b(w, "a_member", "subnetpool", pool["id"])
    return {"id": pool["id"]}


def make_rbac_shared_address_scope(w) -> dict:
    """A's address scope, shared with project B (only) by an RBAC policy."""
    scope = make_address_scope(w)
    _grant_b(w, "a_member", "address_scope", scope["id"])
    return scope


def make_rbac_shared_qos_policy(w) -> dict:
    """The admin's QoS policy (members make none), shared with project B by an RBAC policy."""
    policy = create(w, "admin", "qos/policies", "policy", {"name": unique("iso-rbac-qos")})
    _grant_b(w, "admin", "qos_policy", policy["id"])
    return {"id": policy["id"]}


def _vlan(port_id: str, seg_id: int) -> dict:
    return {"port_id": port_id, "segmentation_type": "vlan", "segmentation_id": seg_id}


def make_trunk(w) -> dict:
    """A's trunk on a port of its own, with one subport."""
    parent, sub = make_port(w)["id"], make_port(w)["id"]
    trunk = create(w, "a_member", "trunks", "trunk", {"name": unique("iso-trunk"), "port_id": parent,
                                                      "sub_ports": [_vlan(sub, 100)]})
    return {"id": trunk["id"], "parent": parent, "subport": sub}


def make_spare_trunk(w) -> dict:
    """A's trunk and a free port of A's to add to it."""
    trunk = make_trunk(w)
    return {**trunk, "port": make_port(w)["id"]}


def make_b_port(w) -> dict:
    port = create(w, "b_member", "ports", "port", {"network_id": str(w.shared("b_network")), "name": unique("iso-bp")})
    return {"id": port["id"]}


def make_b_port_on_a_network(w) -> dict:
    """B's port on A's network shared with B: A, the network's owner, reads, changes and
    deletes it too (Neutron's port policy)."""
    port = create(w, "b_member", "ports", "port", {"network_id": str(w.fresh("rbac_shared_network")),
                                                   "name": unique("iso-bpa")})
    return {"id": port["id"], "network": port["network_id"]}


def make_b_security_group(w) -> dict:
    return {"id": create(w, "b_member", "security-groups", "security_group", {"name": unique("iso-bsg")})["id"]}


def make_foreign_port(w) -> dict:
    """A port of project B's on B's network whose device_id is a server of A's: Neutron
    accepts it (it checks no compute device ids), but it is not the server's: Nova
    builds a server's interfaces from the server's project's ports only."""
    server = w.fresh("server")
    port = create(w, "b_member", "ports", "port", {
        "network_id": str(w.shared("b_network")), "device_id": str(server), "device_owner": "compute:nova"})
    return {"id": port["id"], "server": str(server), "ip": port["fixed_ips"][0]["ip_address"]}


RESOURCES = [
    Resource("external_network", make_external_network),
    Resource("network", network_in("a_member", "10.1.0.0/24")),
    Resource("b_network", network_in("b_member", "10.9.0.0/24")),
    Resource("subnet", make_subnet),
    Resource("subnetpool", make_subnetpool),
    Resource("port", make_port),
    Resource("grouped_port", make_grouped_port),
    Resource("router", make_router),
    Resource("interface_router", make_interface_router),
    Resource("attached_router", make_attached_router),
    Resource("floatingip", make_floatingip),
    Resource("security_group", make_security_group),
    Resource("security_group_rule", make_security_group_rule),
    Resource("tagged_network", make_tagged_network),
    Resource("agent", make_agent),
    Resource("hosting_agent", make_hosting_agent),
    Resource("foreign_port", make_foreign_port),
    Resource("b_port", make_b_port),
    Resource("b_port_on_a_network", make_b_port_on_a_network),
    Resource("shared_network", make_shared_network),
    Resource("b_security_group", make_b_security_group),
    Resource("address_scope", make_address_scope),
    Resource("rbac_policy", make_rbac_policy),
    Resource("rbac_shared_network", make_rbac_shared_network),
    Resource("rbac_shared_security_group", make_rbac_shared_security_group),
    Resource("rbac_shared_subnetpool", make_rbac_shared_subnetpool),
    Resource("rbac_shared_address_scope", make_rbac_shared_address_scope),
    Resource("rbac_shared_qos_policy", make_rbac_shared_qos_policy),
    Resource("trunk", make_trunk),
    Resource("spare_trunk", make_spare_trunk),
]
# Creating a trunk on a port of A's: B does not see the port (404 PortNotFound).
CREATE_TRUNK_ON_A = expect(OK, OK, FORBIDDEN, NOT_FOUND, FORBIDDEN)
# Creating a policy on one of A's networks: B does not see the network (Neutron's 400).
CREATE_POLICY_ON_A = expect(OK, OK, FORBIDDEN, BAD_REQUEST, FORBIDDEN)
# A network A shared with project B: both projects read it, only its owner changes it.
SHARED_WITH_B = expect(OK, OK, OK, OK, OK)
OWNER_WRITES = expect(OK, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN)
# A policy on A's security group (or another non-network object): Neutron reads the
# object as admin, so B is told it is not the owner (400), not that it is unseen.
CREATE_OBJECT_POLICY_ON_A = expect(OK, OK, FORBIDDEN, BAD_REQUEST, FORBIDDEN)
# Listed as shared: only to B, the target (to A's users it is their own, not shared).
SHARED_TO_B = expect(UNLISTED, UNLISTED, UNLISTED, LISTED, LISTED)
# The admin's QoS policy shared with B: the admin and B read it; A does not see it; only
# the admin changes it.
QOS_SHARED_WITH_B = expect(OK, NOT_FOUND, NOT_FOUND, OK, OK)
QOS_ADMIN_WRITES = expect(OK, NOT_FOUND, NOT_FOUND, FORBIDDEN, FORBIDDEN)


def crud(resource: str, collection: str, member: str, create_body: dict, update_body: dict | None,
         create_profile=CREATE, create_consumes: str | None = None, create_marks: dict | None = None,
         everywhere: bool = False) -> list[Op]:
    """list, show, create, update, delete of one of project A's ``resource`` (a create
    into one of A's resources that allows one child only ``create_consumes`` it)."""
    item = f"{N}/{collection}/{{{resource}}}"
    ops = [
        Op(resource, "list", "GET", f"{N}/{collection}", OWN_LIST, watch=f"{{{resource}}}", everywhere=everywhere),
        Op(resource, "show", "GET", item, OWN_READ, everywhere=everywhere),
        Op(resource, "create", "POST", f"{N}/{collection}", create_profile, body={member: create_body},
           consumes=create_consumes, marks=create_marks or {}),
        Op(resource, "delete", "DELETE", item, OWN_WRITE, consumes=resource, everywhere=everywhere),
    ]
    if update_body is not None:
        ops.append(Op(resource, "update", "PUT", item, OWN_WRITE, body={member: update_body}, everywhere=everywhere))
    return ops


OPS = [
    *crud("network", "networks", "network", {"name": "{new}"}, {"name": "{new}"}, everywhere=True),
    Op("network", "list-shared-filter", "GET", N + "/networks?shared=false", OWN_LIST, watch="{network}"),
    *crud("subnet", "subnets", "subnet", {"network_id": "{network}", "ip_version": 4, "cidr": "10.3.0.0/24"},
          {"name": "{new}"}, create_profile=CREATE_ON_A, create_consumes="network"),
    *crud("subnetpool", "subnetpools", "subnetpool", {"name": "{new}", "prefixes": ["10.201.0.0/16"],
                                                      "default_quota": 4096},
          {"name": "{new}"}),
    *crud("port", "ports", "port", {"network_id": "{network}"}, {"name": "{new}"}, create_profile=CREATE_ON_A,
          everywhere=True),
    Op("port", "list-by-network", "GET", N + "/ports?network_id={network}", OWN_LIST, watch="{port}"),
    Op("port", "list-by-security-group", "GET", N + "/ports?security_groups={grouped_port.group}", OWN_LIST,
       watch="{grouped_port}"),
    Op("port", "update-extra-dhcp-opts", "PUT", N + "/ports/{grouped_port}", OWN_WRITE,
       body={"port": {"extra_dhcp_opts": [{"opt_name": "bootfile-name", "opt_value": None}]}}),
    Op("port", "create-with-extra-dhcp-opts", "POST", N + "/ports", CREATE_ON_A,
       body={"port": {"network_id": "{network}", "extra_dhcp_opts": [{"opt_name": "tftp-server",
                                                                     "opt_value": "10.1.0.9"}]}}),
    *crud("address_scope", "address-scopes", "address_scope", {"name": "{new}", "ip_version": 6},
          {"name": "{new}"}),
    *crud("rbac_policy", "rbac-policies", "rbac_policy",
          {"object_type": "network", "object_id": "{network}", "action": "access_as_shared",
           "target_tenant": "{project_b}"}, {"target_tenant": "{project_b}"},
          create_profile=CREATE_POLICY_ON_A, create_consumes="network"),
    Op("rbac-shared-network", "show", "GET", N + "/networks/{rbac_shared_network}", SHARED_WITH_B),
    Op("rbac-shared-network", "list-shared", "GET", N + "/networks?shared=true",
       expect(UNLISTED, UNLISTED, UNLISTED, LISTED, LISTED), watch="{rbac_shared_network}"),
    Op("rbac-shared-network", "show-subnet", "GET", N + "/subnets/{rbac_shared_network.subnet}", SHARED_WITH_B),
    Op("rbac-shared-network", "update", "PUT", N + "/networks/{rbac_shared_network}", OWNER_WRITES,
       body={"network": {"description": "changed"}}),
    Op("rbac-shared-network", "create-port", "POST", N + "/ports", CREATE,
       body={"port": {"network_id": "{rbac_shared_network}"}}),
    # B's port on A's network: the port's project and the network's owner.
    Op("b_port_on_a_network", "show", "GET", N + "/ports/{b_port_on_a_network}", SHARED_WITH_B),
    Op("b_port_on_a_network", "list-by-network", "GET", N + "/ports?network_id={b_port_on_a_network.network}",
       expect(LISTED, LISTED, LISTED, LISTED, LISTED), watch="{b_port_on_a_network}"),
    Op("b_port_on_a_network", "update", "PUT", N + "/ports/{b_port_on_a_network}", CREATE,
       body={"port": {"description": "changed"}}),
    Op("b_port_on_a_network", "delete", "DELETE", N + "/ports/{b_port_on_a_network}", CREATE,
       consumes="b_port_on_a_network"),
    Op("rbac_policy", "create-on-security-group", "POST", N + "/rbac-policies", CREATE_OBJECT_POLICY_ON_A,
       consumes="security_group", body={"rbac_policy": {
           "object_type": "security_group", "object_id": "{security_group}", "action": "access_as_shared",
           "target_tenant": "{project_b}"}}),
    Op("rbac_policy", "create-wildcard-on-subnetpool", "POST", N + "/rbac-policies",
       expect(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN), consumes="subnetpool", body={"rbac_policy": {
           "object_type": "subnetpool", "object_id": "{subnetpool}", "action": "access_as_shared",
           "target_tenant": "*"}}),
    Op("rbac-shared-security-group", "show", "GET", N + "/security-groups/{rbac_shared_security_group}",
       SHARED_WITH_B),
    Op("rbac-shared-security-group", "list-shared", "GET", N + "/security-groups?shared=true", SHARED_TO_B,
       watch="{rbac_shared_security_group}"),
    Op("rbac-shared-security-group", "update", "PUT", N + "/security-groups/{rbac_shared_security_group}",
       OWNER_WRITES, body={"security_group": {"description": "changed"}}),
    Op("rbac-shared-security-group", "add-rule", "POST", N + "/security-group-rules", CREATE_ON_A,
       consumes="rbac_shared_security_group", body={"security_group_rule": {
           "security_group_id": "{rbac_shared_security_group}", "direction": "ingress", "protocol": "tcp"}}),
    Op("rbac-shared-subnetpool", "show", "GET", N + "/subnetpools/{rbac_shared_subnetpool}", SHARED_WITH_B),
    Op("rbac-shared-subnetpool", "list-shared", "GET", N + "/subnetpools?shared=true", SHARED_TO_B,
       watch="{rbac_shared_subnetpool}"),
    Op("rbac-shared-subnetpool", "update", "PUT", N + "/subnetpools/{rbac_shared_subnetpool}", OWNER_WRITES,
       body={"subnetpool": {"description": "changed"}}),
    Op("rbac-shared-address-scope", "show", "GET", N + "/address-scopes/{rbac_shared_address_scope}",
       SHARED_WITH_B),
    Op("rbac-shared-address-scope", "update", "PUT", N + "/address-scopes/{rbac_shared_address_scope}",
       OWNER_WRITES, body={"address_scope": {"name": "{new}"}}),
    Op("rbac-shared-qos-policy", "show", "GET", N + "/qos/policies/{rbac_shared_qos_policy}", QOS_SHARED_WITH_B),
    Op("rbac-shared-qos-policy", "update", "PUT", N + "/qos/policies/{rbac_shared_qos_policy}", QOS_ADMIN_WRITES,
       body={"policy": {"description": "changed"}}),
    *crud("trunk", "trunks", "trunk", {"port_id": "{port}", "name": "{new}"}, {"name": "{new}"},
          create_profile=CREATE_TRUNK_ON_A, create_consumes="port", everywhere=True),
    Op("trunk", "list-by-port", "GET", N + "/trunks?port_id={trunk.parent}", OWN_LIST, watch="{trunk}"),
    Op("trunk", "get-subports", "GET", N + "/trunks/{trunk}/get_subports", OWN_READ),
    Op("trunk", "show-parent-trunk-details", "GET", N + "/ports/{trunk.parent}", OWN_READ),
    Op("trunk", "add-subports", "PUT", N + "/trunks/{spare_trunk}/add_subports", OWN_WRITE,
       body={"sub_ports": [_vlan("{spare_trunk.port}", 101)]}, consumes="spare_trunk"),
    Op("trunk", "remove-subports", "PUT", N + "/trunks/{spare_trunk}/remove_subports", OWN_WRITE,
       body={"sub_ports": [{"port_id": "{spare_trunk.subport}"}]}, consumes="spare_trunk"),
    Op("trunk-tags", "add", "PUT", N + "/trunks/{trunk}/tags/t1", OWN_WRITE),
    Op("subnetpool", "update-default-quota", "PUT", N + "/subnetpools/{subnetpool}", OWN_WRITE,
       body={"subnetpool": {"default_quota": 1024}}),
    *crud("router", "routers", "router", {"name": "{new}"}, {"name": "{new}"}),
    Op("router", "add-interface", "PUT", N + "/routers/{interface_router}/add_router_interface", OWN_WRITE,
       body={"subnet_id": "{interface_router.subnet}"}, consumes="interface_router"),
    Op("router", "remove-interface", "PUT", N + "/routers/{attached_router}/remove_router_interface", OWN_WRITE,
       body={"subnet_id": "{attached_router.subnet}"}, consumes="attached_router"),
    *crud("floatingip", "floatingips", "floatingip", {"floating_network_id": "{external_network}"},
          {"description": "changed"}),
    *crud("security_group", "security-groups", "security_group", {"name": "{new}"}, {"name": "{new}"},
          everywhere=True),
    *crud("security_group_rule", "security-group-rules", "security_group_rule",
          {"security_group_id": "{security_group}", "direction": "ingress", "protocol": "udp"}, None,
          create_profile=CREATE_ON_A, create_consumes="security_group"),
    Op("router", "add-extraroutes", "PUT", N + "/routers/{router}/add_extraroutes", OWN_WRITE,
       body={"router": {"routes": []}}),
    Op("router", "remove-extraroutes", "PUT", N + "/routers/{router}/remove_extraroutes", OWN_WRITE,
       body={"router": {"routes": []}}),
    # A's own resources pointing at B's: B's are not found (the admin may link them)
    Op("router", "add-interface-of-other-project-subnet", "PUT", N + "/routers/{interface_router}/add_router_interface",
       expect(OK, NOT_FOUND, FORBIDDEN, NOT_FOUND, NOT_FOUND), body={"subnet_id": "{b_network.subnet}"},
       consumes="interface_router"),
    Op("security_group_rule", "create-remote-other-project-group", "POST", N + "/security-group-rules",
       expect(OK, NOT_FOUND, FORBIDDEN, FORBIDDEN, FORBIDDEN), consumes="security_group",
       body={"security_group_rule": {"security_group_id": "{security_group}", "direction": "ingress",
                                     "remote_group_id": "{b_security_group}"}}),
    # tags (on a network of A's tagged t1)
    Op("network-tags", "list", "GET", N + "/networks/{tagged_network}/tags", OWN_READ),
    Op("network-tags", "show", "GET", N + "/networks/{tagged_network}/tags/t1", OWN_READ),
    Op("network-tags", "add", "PUT", N + "/networks/{tagged_network}/tags/t2", OWN_WRITE),
    Op("network-tags", "replace", "PUT", N + "/networks/{tagged_network}/tags", OWN_WRITE, body={"tags": ["t1"]}),
    Op("network-tags", "delete", "DELETE", N + "/networks/{tagged_network}/tags/t1", OWN_WRITE,
       consumes="tagged_network"),
    Op("network-tags", "delete-all", "DELETE", N + "/networks/{tagged_network}/tags", OWN_WRITE,
       consumes="tagged_network"),
    # the admin's external network: visible to all, its subnet is not, only the admin changes it
    Op("external-network", "list", "GET", N + "/networks?router:external=true", expect(
        LISTED, LISTED, LISTED, LISTED, LISTED), watch="{external_network}"),
    Op("external-network", "show", "GET", N + "/networks/{external_network}", EVERYONE),
    Op("external-network", "update", "PUT", N + "/networks/{external_network}", VISIBLE_ADMIN_WRITES,
       body={"network": {"description": "changed"}}),
    Op("external-network", "show-subnet", "GET", N + "/subnets/{external_network.subnet}", ADMIN_SEES),
    # ports a member may not make (issue 11 item 2)
    Op("port", "create-on-external-network", "POST", N + "/ports", expect(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN,
                                                                              FORBIDDEN),
       body={"port": {"network_id": "{external_network}"}}, everywhere=True),
    Op("port", "create-network-owner-on-external", "POST", N + "/ports",
       expect(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
       body={"port": {"network_id": "{external_network}", "device_owner": "network:router_gateway"}}),
    Op("port", "create-on-shared-network", "POST", N + "/ports", CREATE,
       body={"port": {"network_id": "{shared_network}"}}),
    Op("port", "create-network-owner-on-shared", "POST", N + "/ports",
       expect(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
       body={"port": {"network_id": "{shared_network}", "device_owner": "network:dhcp"}}),
    Op("port", "create-interface-of-other-project-router", "POST", N + "/ports",
       expect(OK, FORBIDDEN, FORBIDDEN, CONFLICT, FORBIDDEN),
       body={"port": {"network_id": "{b_network}", "device_owner": "network:router_interface",
                      "device_id": "{router}"}}),
    Op("port", "create-for-other-project-server", "POST", N + "/ports", expect(OK, FORBIDDEN, FORBIDDEN, OK, FORBIDDEN),
       body={"port": {"network_id": "{b_network}", "device_owner": "compute:nova", "device_id": "{server}"}}),
    # The same through an update of B's own port: A's router is not B's (409), A's users
    # do not see B's port (404).
    Op("port", "update-to-interface-of-other-project-router", "PUT", N + "/ports/{b_port}",
       expect(OK, NOT_FOUND, NOT_FOUND, CONFLICT, FORBIDDEN), consumes="b_port",
       body={"port": {"device_owner": "network:router_interface", "device_id": "{router}"}}),
    Op("foreign-port", "server-interfaces", "GET", "/compute/v2.1/servers/{foreign_port.server}/os-interface",
       expect(UNLISTED, UNLISTED, UNLISTED, NOT_FOUND, NOT_FOUND), watch="{foreign_port}", everywhere=True),
    Op("foreign-port", "server-addresses", "GET", "/compute/v2.1/servers/{foreign_port.server}/ips",
       expect(UNLISTED, UNLISTED, UNLISTED, NOT_FOUND, NOT_FOUND), watch="{foreign_port.ip}"),
    # quotas
    Op("network-quota", "show", "GET", N + "/quotas/{project_a}", PROJECT_A_READ),
    Op("network-quota", "details", "GET", N + "/quotas/{project_a}/details", PROJECT_A_READ),
    Op("network-quota", "list", "GET", N + "/quotas", ADMIN_ONLY),
    Op("network-quota", "update", "PUT", N + "/quotas/{project_a}", ADMIN_ONLY, body={"quota": {"network": -1}}),
    Op("network-quota", "delete", "DELETE", N + "/quotas/{project}", ADMIN_ONLY),
    # fixed lists of the deployment: any reader lists them
    Op("service-providers", "list", "GET", N + "/service-providers", EVERYONE),
    Op("availability-zones", "list", "GET", N + "/availability_zones", EVERYONE),
    # agents: only the admin sees them (others list none, and 404 on one)
    Op("agent", "list", "GET", N + "/agents", expect(LISTED, UNLISTED, UNLISTED, UNLISTED, UNLISTED), watch="{agent}"),
    Op("agent", "show", "GET", N + "/agents/{agent}", ADMIN_SEES),
    Op("agent", "update", "PUT", N + "/agents/{agent}", ADMIN_SEES, body={"agent": {"description": "changed"}}),
    Op("agent", "delete", "DELETE", N + "/agents/{agent}", ADMIN_SEES, consumes="agent"),
    # IP availability: only the admin sees it (others list none, and 404 on a network)
    Op("network-ip-availability", "list", "GET", N + "/network-ip-availabilities",
       expect(LISTED, UNLISTED, UNLISTED, UNLISTED, UNLISTED), watch="{network}"),
    Op("network-ip-availability", "show", "GET", N + "/network-ip-availabilities/{network}", ADMIN_SEES),
    # agent scheduler (l3_agent_scheduler, dhcp_agent_scheduler): admin only, others 403
    Op("agent-scheduler", "list-l3-agents", "GET", N + "/routers/{router}/l3-agents", ADMIN_ONLY),
    Op("agent-scheduler", "list-l3-routers", "GET", N + "/agents/{agent.l3}/l3-routers", ADMIN_ONLY),
    Op("agent-scheduler", "add-l3-router", "POST", N + "/agents/{agent.l3}/l3-routers", ADMIN_ONLY,
       body={"router_id": "{router}"}, consumes="router"),
    Op("agent-scheduler", "remove-l3-router", "DELETE",
       N + "/agents/{hosting_agent.l3}/l3-routers/{hosting_agent.router}", ADMIN_ONLY, consumes="hosting_agent"),
    Op("agent-scheduler", "list-dhcp-agents", "GET", N + "/networks/{network}/dhcp-agents", ADMIN_ONLY),
    Op("agent-scheduler", "list-dhcp-networks", "GET", N + "/agents/{agent.dhcp}/dhcp-networks", ADMIN_ONLY),
    Op("agent-scheduler", "add-dhcp-network", "POST", N + "/agents/{agent.dhcp}/dhcp-networks", ADMIN_ONLY,
       body={"network_id": "{network}"}, consumes="network"),
    Op("agent-scheduler", "remove-dhcp-network", "DELETE",
       N + "/agents/{hosting_agent.dhcp}/dhcp-networks/{hosting_agent.network}", ADMIN_ONLY, consumes="hosting_agent"),
]


# -- QoS policies (Neutron's qos extension) -----------------------------------------------------------
# Policies and their rules are made and changed by admins and a project's managers only
# (neutron/conf/policies/qos.py): the personas' members and readers read their project's;
# project B sees neither A's policy nor its rules (404).  A shared policy is everyone's to
# read and bind, its owner's (here the admin's) to change.
def make_qos_policy(w) -> dict:
    """A policy of project A's (made by the admin: A's member is no manager)."""
    return {"id": create(w, "admin", "qos/policies", "policy", {"name": unique("iso-qos"),
                                                                "project_id": str(w.project("a"))})["id"]}


def make_qos_rule(w) -> dict:
    """A bandwidth limit rule in a policy of project A's of its own."""
    policy_id = str(w.fresh("qos_policy"))
    rule = w.call("POST", f"{N}/qos/policies/{policy_id}/bandwidth_limit_rules", "admin",
                  json={"bandwidth_limit_rule": {"max_kbps": 1000}}).json()["bandwidth_limit_rule"]
    return {"id": rule["id"], "policy": policy_id}


def make_shared_qos_policy(w) -> dict:
    return {"id": create(w, "admin", "qos/policies", "policy", {"name": unique("iso-sqos"), "shared": True})["id"]}


QOS_RESOURCES = [
    Resource("qos_policy", make_qos_policy),
    Resource("qos_rule", make_qos_rule),
    Resource("shared_qos_policy", make_shared_qos_policy),
]
# A's rules listed through A's policy: B does not see the policy (404).
QOS_RULES_LISTED = expect(LISTED, LISTED, LISTED, NOT_FOUND, NOT_FOUND)
# Changing A's policy or its rules: A's member and reader see it but are no managers (403).
QOS_MANAGED = expect(OK, FORBIDDEN, FORBIDDEN, NOT_FOUND, NOT_FOUND)
QOS_RULE = N + "/qos/policies/{qos_rule.policy}/bandwidth_limit_rules/{qos_rule}"
QOS_OPS = [
    Op("qos_policy", "list", "GET", N + "/qos/policies", OWN_LIST, watch="{qos_policy}"),
    Op("qos_policy", "show", "GET", N + "/qos/policies/{qos_policy}", OWN_READ),
    Op("qos_policy", "create", "POST", N + "/qos/policies", ADMIN_ONLY, body={"policy": {"name": "{new}"}}),
    Op("qos_policy", "update", "PUT", N + "/qos/policies/{qos_policy}", QOS_MANAGED,
       body={"policy": {"description": "changed"}}),
    Op("qos_policy", "delete", "DELETE", N + "/qos/policies/{qos_policy}", QOS_MANAGED, consumes="qos_policy"),
    # A rule create is checked against the policy as the admin finds it: refused, not hidden.
    Op("qos_policy", "create-rule", "POST", N + "/qos/policies/{qos_policy}/dscp_marking_rules",
       expect(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN), body={"dscp_marking_rule": {"dscp_mark": 26}},
       consumes="qos_policy"),
    Op("qos_rule", "list", "GET", N + "/qos/policies/{qos_rule.policy}/bandwidth_limit_rules", QOS_RULES_LISTED,
       watch="{qos_rule}"),
    Op("qos_rule", "show", "GET", QOS_RULE, OWN_READ),
    Op("qos_rule", "update", "PUT", QOS_RULE, QOS_MANAGED, body={"bandwidth_limit_rule": {"max_kbps": 2000}}),
    Op("qos_rule", "delete", "DELETE", QOS_RULE, QOS_MANAGED, consumes="qos_rule"),
    Op("qos_rule", "show-alias", "GET", N + "/qos/alias_bandwidth_limit_rules/{qos_rule}", OWN_READ),
    Op("qos_rule", "delete-alias", "DELETE", N + "/qos/alias_bandwidth_limit_rules/{qos_rule}", QOS_MANAGED,
       consumes="qos_rule"),
    Op("qos-rule-types", "list", "GET", N + "/qos/rule-types", EVERYONE),
    Op("qos-rule-types", "show", "GET", N + "/qos/rule-types/dscp_marking", ADMIN_ONLY),
    Op("shared-qos-policy", "show", "GET", N + "/qos/policies/{shared_qos_policy}", EVERYONE),
    Op("shared-qos-policy", "update", "PUT", N + "/qos/policies/{shared_qos_policy}", VISIBLE_ADMIN_WRITES,
       body={"policy": {"description": "changed"}}),
    Op("shared-qos-policy", "bind-to-network", "PUT", N + "/networks/{network}", OWN_WRITE,
       body={"network": {"qos_policy_id": "{shared_qos_policy}"}}),
    # B's port and A's private policy: only the admin binds them (B does not see the policy)
    Op("qos_policy", "bind-to-other-project-port", "PUT", N + "/ports/{b_port}",
       expect(OK, NOT_FOUND, NOT_FOUND, NOT_FOUND, FORBIDDEN), body={"port": {"qos_policy_id": "{qos_policy}"}},
       consumes="b_port"),
]
RESOURCES += QOS_RESOURCES
OPS += QOS_OPS
