"""Placement in the isolation matrix: the whole API is the admin's (placement's
policies: ``rule:admin_api`` everywhere), including the usages and allocations of
project A's servers.
"""

from __future__ import annotations

from conftest import unique
from isolation.matrix import ADMIN_ONLY, Op, Resource

P = "/placement"
MICRO = {"OpenStack-API-Version": "placement 1.39"}


def make_provider(w) -> dict:
    """A resource provider with 8 VCPU of inventory (generation 1 afterwards)."""
    rp = w.call("POST", P + "/resource_providers", headers=MICRO, json={"name": unique("iso-rp")}).json()
    w.call("PUT", f"{P}/resource_providers/{rp['uuid']}/inventories", headers=MICRO, json={
        "resource_provider_generation": rp["generation"], "inventories": {"VCPU": {"total": 8}}})
    return {"id": rp["uuid"], "generation": rp["generation"] + 1}


def make_resource_class(w) -> dict:
    name = w.lookup("new_custom")
    w.call("PUT", f"{P}/resource_classes/{name}", headers=MICRO)
    return {"id": name}


def make_trait(w) -> dict:
    name = w.lookup("new_custom")
    w.call("PUT", f"{P}/traits/{name}", headers=MICRO)
    return {"id": name}


RESOURCES = [
    Resource("resource_provider", make_provider),
    Resource("resource_class", make_resource_class),
    Resource("trait", make_trait),
]


def op(resource: str, name: str, method: str, path: str, **kw) -> Op:
    return Op(resource, name, method, P + path, ADMIN_ONLY, headers=MICRO, **kw)


RP = "/resource_providers/{resource_provider}"
OPS = [
    op("resource-provider", "list", "GET", "/resource_providers", everywhere=True),
    op("resource-provider", "show", "GET", RP),
    op("resource-provider", "create", "POST", "/resource_providers", body={"name": "{new}"}, everywhere=True),
    op("resource-provider", "update", "PUT", RP, body={"name": "{new}"}),
    op("resource-provider", "delete", "DELETE", RP, consumes="resource_provider"),
    op("inventory", "list", "GET", RP + "/inventories"),
    op("inventory", "show", "GET", RP + "/inventories/VCPU"),
    op("inventory", "replace", "PUT", RP + "/inventories", consumes="resource_provider",
       body={"resource_provider_generation": "{resource_provider.generation}", "inventories": {"VCPU": {"total": 4}}}),
    op("inventory", "delete", "DELETE", RP + "/inventories", consumes="resource_provider"),
    op("provider-traits", "list", "GET", RP + "/traits"),
    op("provider-aggregates", "list", "GET", RP + "/aggregates"),
    op("provider-usages", "list", "GET", RP + "/usages"),
    op("provider-allocations", "list", "GET", RP + "/allocations"),
    op("resource-class", "list", "GET", "/resource_classes"),
    op("resource-class", "show", "GET", "/resource_classes/{resource_class}"),
    op("resource-class", "create", "PUT", "/resource_classes/{new_custom}"),
    op("resource-class", "delete", "DELETE", "/resource_classes/{resource_class}", consumes="resource_class"),
    op("trait", "list", "GET", "/traits"),
    op("trait", "show", "GET", "/traits/{trait}"),
    op("trait", "create", "PUT", "/traits/{new_custom}"),
    op("trait", "delete", "DELETE", "/traits/{trait}", consumes="trait"),
    op("usage", "project-a", "GET", "/usages?project_id={project_a}", everywhere=True),
    op("allocation", "of-a-server", "GET", "/allocations/{server}", everywhere=True),
    op("allocation-candidates", "list", "GET", "/allocation_candidates?resources=VCPU:1"),
]
