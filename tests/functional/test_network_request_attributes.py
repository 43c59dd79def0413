"""What Neutron's API layer does with the attributes of a request body before any of it
reaches a plugin: an attribute of no loaded extension (or of none at all) is a 400
"Unrecognized attribute(s)", a read-only one is refused as read-only -- never silently
dropped, so a client asking for a distributed or HA router learns it did not get one."""

from __future__ import annotations

import pytest

from conftest import unique
from test_network_api import call, create, private


def _error(response) -> dict:
    assert response.status_code == 400, response.text
    return response.json()["NeutronError"]


@pytest.mark.parametrize("kind, attrs, names", [
    ("router", {"distributed": True}, "distributed"),
    ("router", {"ha": True}, "ha"),
    ("router", {"availability_zone_hints": ["nova"], "bogus": "f"}, "availability_zone_hints, bogus"),
    ("network", {"segments": [], "dns_domain": "example.org."}, "dns_domain, segments"),
    ("network", {"bogus": 1}, "bogus"),
    ("security_group", {"nonsense": "x"}, "nonsense"),
])
def test_create_with_an_unimplemented_attribute_is_unrecognized(api, demo_token, kind, attrs, names):
    collection = {"security_group": "security-groups"}.get(kind, kind + "s")
    error = _error(call(api, "POST", f"/{collection}", demo_token, {kind: {"name": unique(kind), **attrs}}))
    assert error == {"type": "HTTPBadRequest", "message": f"Unrecognized attribute(s) '{names}'", "detail": ""}


def test_update_with_an_unimplemented_attribute_is_unrecognized(api, demo_token):
    router = create(api, demo_token, "router", {"name": unique("r")})
    error = _error(call(api, "PUT", f"/routers/{router['id']}", demo_token, {"router": {"distributed": False}}))
    assert error["message"] == "Unrecognized attribute(s) 'distributed'"
    net, sub = private(api, demo_token, "10.77.1.0/24")
    port = create(api, demo_token, "port", {"network_id": net["id"]})
    error = _error(call(api, "PUT", f"/ports/{port['id']}", demo_token, {"port": {"dns_name": "vm1"}}))
    assert error["message"] == "Unrecognized attribute(s) 'dns_name'"
    error = _error(call(api, "PUT", f"/subnets/{sub['id']}", demo_token, {"subnet": {"service_types": []}}))
    assert error["message"] == "Unrecognized attribute(s) 'service_types'"


def test_each_item_of_a_bulk_create_is_checked(api, demo_token):
    before = {n["id"] for n in call(api, "GET", "/networks", demo_token, status=200).json()["networks"]}
    error = _error(call(api, "POST", "/networks", demo_token, {"networks": [
        {"name": unique("n")}, {"name": unique("n"), "segments": [{"provider:network_type": "vxlan"}]}]}))
    assert error["message"] == "Unrecognized attribute(s) 'segments'"
    assert {n["id"] for n in call(api, "GET", "/networks", demo_token, status=200).json()["networks"]} == before


def test_read_only_attributes_are_named_as_read_only(api, demo_token):
    error = _error(call(api, "POST", "/networks", demo_token, {"network": {"name": unique("n"), "status": "DOWN"}}))
    assert error == {"type": "HTTPBadRequest", "message": "Attribute 'status' not allowed in POST", "detail": ""}
    net = create(api, demo_token, "network", {"name": unique("n")})
    error = _error(call(api, "PUT", f"/networks/{net['id']}", demo_token, {"network": {"subnets": []}}))
    assert error == {"type": "HTTPBadRequest", "message": "Cannot update read-only attribute subnets", "detail": ""}
    error = _error(call(api, "PUT", f"/networks/{net['id']}", demo_token, {"network": {"id": net["id"]}}))
    assert error["message"] == "Cannot update read-only attribute id"
    # One a create may set but an update may not change: the same message.
    port = create(api, demo_token, "port", {"network_id": net["id"]})
    error = _error(call(api, "PUT", f"/ports/{port['id']}", demo_token, {"port": {"network_id": net["id"]}}))
    assert error == {"type": "HTTPBadRequest", "message": "Cannot update read-only attribute network_id",
                     "detail": ""}


def test_unrecognized_is_answered_before_a_missing_required_attribute(api, demo_token):
    # Neutron verifies the attribute names before it fills defaults and checks required ones.
    error = _error(call(api, "POST", "/ports", demo_token, {"port": {"ha": True}}))
    assert error["message"] == "Unrecognized attribute(s) 'ha'"
