"""Neutron's address groups in the isolation matrix: CRUD, add_addresses and
remove_addresses, a group shared with project B by an RBAC policy, and security group
rules naming a group as their remote.

Expectations from neutron/conf/policies/address_group.py (a project's members create,
change and delete its groups and their addresses, its readers read them; a group shared
with a project is read by it: ``rule:shared_address_groups``), Neutron's policy hook
(404 for what the caller does not see, 403 for what it sees but may not change),
neutron/db/address_group_db.py (a group in use by a rule: 409 AddressGroupInUse) and
neutron/db/securitygroups_db.py (a rule's remote group must be one the rule's project
sees: 404 AddressGroupNotFound).
"""

from __future__ import annotations

from conftest import unique
from isolation.matrix import (
    CONFLICT,
    FORBIDDEN,
    LISTED,
    NOT_FOUND,
    OK,
    OWN_WRITE,
    Op,
    Resource,
    expect,
)
from isolation.network import (
    CREATE_OBJECT_POLICY_ON_A,
    N,
    create,
    crud,
    make_b_security_group,
    make_security_group,
)


def make_address_group(w) -> dict:
    group = create(w, "a_member", "address-groups", "address_group", {"name": unique("iso-ag"),
                                                                       "addresses": ["10.61.0.0/24"]})
    return {"id": group["id"]}


def make_b_address_group(w) -> dict:
    return {"id": create(w, "b_member", "address-groups", "address_group", {"name": unique("iso-bag")})["id"]}


def make_rbac_shared_address_group(w) -> dict:
    """A's address group, shared with project B (only) by an RBAC policy."""
    group = make_address_group(w)
    create(w, "a_member", "rbac-policies", "rbac_policy", {
        "object_type": "address_group", "object_id": group["id"], "action": "access_as_shared",
        "target_tenant": str(w.project("b"))})
    return group


def make_used_address_group(w) -> dict:
    """A's address group named by a rule in a security group of A's."""
    group = make_address_group(w)
    create(w, "a_member", "security-group-rules", "security_group_rule", {
        "security_group_id": make_security_group(w)["id"], "direction": "ingress",
        "remote_address_group_id": group["id"]})
    return group


RESOURCES = [
    Resource("address_group", make_address_group),
    Resource("b_address_group", make_b_address_group),
    Resource("rbac_shared_address_group", make_rbac_shared_address_group),
    Resource("used_address_group", make_used_address_group),
    Resource("ag_security_group", make_security_group),
    Resource("ag_b_security_group", make_b_security_group),
]
# A's group shared with B: everyone reads it, only A's members change it.
SHARED_WITH_B = expect(OK, OK, OK, OK, OK)
OWNER_WRITES = expect(OK, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN)
GROUP = N + "/address-groups/{address_group}"
SHARED = N + "/address-groups/{rbac_shared_address_group}"
OPS = [
    *crud("address_group", "address-groups", "address_group", {"name": "{new}", "addresses": ["10.62.0.0/24"]},
          {"name": "{new}"}, everywhere=True),
    Op("address_group", "add-addresses", "PUT", GROUP + "/add_addresses", OWN_WRITE,
       body={"addresses": ["10.63.0.0/24"]}, consumes="address_group"),
    Op("address_group", "remove-addresses", "PUT", GROUP + "/remove_addresses", OWN_WRITE,
       body={"addresses": ["10.61.0.0/24"]}, consumes="address_group"),
    Op("address_group", "delete-in-use", "DELETE", N + "/address-groups/{used_address_group}",
       expect(CONFLICT, CONFLICT, FORBIDDEN, NOT_FOUND, NOT_FOUND)),
    Op("address_group", "share-with-b", "POST", N + "/rbac-policies", CREATE_OBJECT_POLICY_ON_A,
       consumes="address_group", body={"rbac_policy": {
           "object_type": "address_group", "object_id": "{address_group}", "action": "access_as_shared",
           "target_tenant": "{project_b}"}}),
    Op("rbac-shared-address-group", "show", "GET", SHARED, SHARED_WITH_B),
    Op("rbac-shared-address-group", "list", "GET", N + "/address-groups",
       expect(LISTED, LISTED, LISTED, LISTED, LISTED), watch="{rbac_shared_address_group}"),
    # Neutron's policy hook checks an update against the group without ``shared``, so
    # B, which reads it only as shared, is told it does not exist; a delete is a 403.
    Op("rbac-shared-address-group", "update", "PUT", SHARED, expect(OK, OK, FORBIDDEN, NOT_FOUND, NOT_FOUND),
       body={"address_group": {"description": "changed"}}),
    Op("rbac-shared-address-group", "delete", "DELETE", SHARED, OWNER_WRITES, consumes="rbac_shared_address_group"),
    Op("rbac-shared-address-group", "add-addresses", "PUT", SHARED + "/add_addresses", OWNER_WRITES,
       body={"addresses": ["10.64.0.0/24"]}, consumes="rbac_shared_address_group"),
    # B names the group shared with it in a rule of its own group; others may not add
    # rules to B's group (403: Neutron reads the group's owner as admin).
    Op("rbac-shared-address-group", "remote-of-own-rule", "POST", N + "/security-group-rules",
       expect(OK, FORBIDDEN, FORBIDDEN, OK, FORBIDDEN), consumes="ag_b_security_group",
       body={"security_group_rule": {"security_group_id": "{ag_b_security_group}", "direction": "ingress",
                                     "remote_address_group_id": "{rbac_shared_address_group}"}}),
    # A's rule naming B's group: A does not see it (404); only the admin links them.
    Op("address_group", "remote-of-other-project", "POST", N + "/security-group-rules",
       expect(OK, NOT_FOUND, FORBIDDEN, FORBIDDEN, FORBIDDEN), consumes="ag_security_group",
       body={"security_group_rule": {"security_group_id": "{ag_security_group}", "direction": "ingress",
                                     "remote_address_group_id": "{b_address_group}"}}),
]
