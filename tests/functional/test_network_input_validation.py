"""Malformed input gets Neutron's 400, never a 500: sort keys and directions, integers
beyond what a column holds (2^63 and up reach no database), integers sent as strings,
strings no database stores (lone UTF-16 surrogates, NUL), and ``null`` for attributes
that are never null."""

from __future__ import annotations

import json

import pytest

from conftest import unique
from test_network_api import NET, call, create, private

HUGE = 2 ** 63


def _error(response, status=400) -> dict:
    assert response.status_code == status, response.text
    return response.json()["NeutronError"]


def _raw(api, method, path, token, text: str):
    """A body sent as written: ``json.dumps`` keeps ``\\ud800`` as the JSON escape."""
    return api.request(method, f"{NET}{path}", token, content=text.encode(),
                       headers={"Content-Type": "application/json"})


# -- sorting -------------------------------------------------------------------------------------

@pytest.mark.parametrize("path, message", [
    ("/networks?sort_key=nonexistent&sort_dir=asc", "['nonexistent'] is invalid attribute for sort_keys"),
    ("/networks?sort_key=name&sort_key=bogus&sort_dir=asc&sort_dir=asc",
     "['bogus'] is invalid attribute for sort_keys"),
    ("/ports?sort_key=fixed_ips&sort_dir=asc", "['fixed_ips'] is invalid attribute for sort_keys"),
    ("/networks?sort_key=subnets&sort_dir=desc", "['subnets'] is invalid attribute for sort_keys"),
    ("/ports?sort_key=compute_created&sort_dir=asc", "['compute_created'] is invalid attribute for sort_keys"),
    ("/subnetpools?sort_key=generation&sort_dir=asc", "['generation'] is invalid attribute for sort_keys"),
    ("/networks?sort_key=name&sort_dir=garbage",
     "['garbage'] is invalid value for sort_dirs, valid value is 'asc' and 'desc'"),
    ("/networks?sort_key=name", "The number of sort_keys and sort_dirs must be same"),
    ("/routers?sort_dir=asc", "The number of sort_keys and sort_dirs must be same"),
])
def test_sorting_is_checked_as_neutron_checks_it(api, demo_token, path, message):
    assert _error(call(api, "GET", path, demo_token)) == {"type": "HTTPBadRequest", "message": message, "detail": ""}


def test_neutron_sort_keys_sort(api, demo_token):
    prefix = unique("sort")
    for mtu in (1400, 1300, 1450):
        create(api, demo_token, "network", {"name": f"{prefix}-{mtu}", "mtu": mtu})
    names = "&".join(f"name={prefix}-{mtu}" for mtu in (1400, 1300, 1450))
    listed = call(api, "GET", f"/networks?{names}&sort_key=mtu&sort_dir=desc", demo_token, status=200)
    mtus = [n["mtu"] for n in listed.json()["networks"]]
    assert mtus == [1450, 1400, 1300]
    for path in ("/ports?sort_key=mac_address&sort_dir=asc", "/networks?sort_key=project_id&sort_dir=asc",
                 "/security-group-rules?sort_key=remote_ip_prefix&sort_dir=desc",
                 "/networks?sort_key=availability_zone_hints&sort_dir=asc"):
        call(api, "GET", path, demo_token, status=200)


# -- integers --------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, kind, message", [
    (HUGE, "HTTPBadRequest", None),  # refused with every API's >64-bit integers, before Neutron's check
    (2 ** 31, "HTTPBadRequest", f"Invalid input for network. Reason: '{2 ** 31}' is too large - must be no larger "
                                "than '2147483647'."),
    ("1" * 30, "HTTPBadRequest", f"Invalid input for network. Reason: '{'1' * 30}' is too large - must be no "
                                 "larger than '2147483647'."),
    (-2, "HTTPBadRequest", "Invalid input for network. Reason: '-2' is too small - must be at least '-1'."),
    ("many", "InvalidInput", "Invalid input for operation: 'many' is not an integer."),
])
def test_quota_values_are_checked(api, admin_token, value, kind, message):
    project_id = unique("p")
    error = _error(call(api, "PUT", f"/quotas/{project_id}", admin_token, {"quota": {"network": value}}))
    assert error["type"] == kind and error["message"] == (message or error["message"])
    assert call(api, "GET", f"/quotas/{project_id}", admin_token, status=200).json()["quota"]["network"] == 100


def test_huge_integers_in_bodies_are_400(api, admin_token, demo_token):
    net, _ = private(api, demo_token, "10.160.0.0/24")
    group = create(api, demo_token, "security_group", {"name": unique("sg")}, collection="security-groups")
    for kind, body, token in (
            ("network", {"name": "n", "provider:network_type": "vlan", "provider:segmentation_id": HUGE},
             admin_token),
            ("network", {"name": "n", "provider:network_type": "vxlan", "provider:segmentation_id": HUGE},
             admin_token),
            ("network", {"name": "n", "mtu": HUGE}, demo_token),
            ("subnetpool", {"name": "p", "prefixes": ["10.161.0.0/16"], "default_prefixlen": HUGE}, demo_token),
            ("subnetpool", {"name": "p", "prefixes": ["10.161.0.0/16"], "max_prefixlen": HUGE}, demo_token),
            ("security_group_rule", {"security_group_id": group["id"], "direction": "ingress", "protocol": "tcp",
                                     "port_range_min": HUGE, "port_range_max": HUGE}, demo_token),
            ("security_group_rule", {"security_group_id": group["id"], "direction": "ingress", "protocol": HUGE},
             demo_token)):
        collection = {"security_group_rule": "security-group-rules"}.get(kind)
        create(api, token, kind, body, status=400, collection=collection)
    call(api, "PUT", f"/networks/{net['id']}", demo_token, {"network": {"mtu": HUGE}}, status=400)


@pytest.mark.parametrize("path", [
    "/networks?mtu=99999999999999999999", "/networks?provider:segmentation_id=9223372036854775808",
    "/ports?revision_number=-9223372036854775809", "/security-group-rules?port_range_min=99999999999999999999",
    "/subnetpools?default_prefixlen=99999999999999999999",
])
def test_huge_integer_filters_are_400(api, admin_token, path):
    assert _error(call(api, "GET", path, admin_token))["type"] == "HTTPBadRequest"


@pytest.mark.parametrize("attribute", ["default_prefixlen", "min_prefixlen", "max_prefixlen"])
def test_subnet_pool_prefix_lengths_must_be_integers(api, demo_token, attribute):
    pool = create(api, demo_token, "subnetpool", {"name": unique("p"), "prefixes": ["10.162.0.0/16"]})
    for value, kind, message in (
            ("x", "InvalidInput", "Invalid input for operation: 'x' is not an integer."),
            ("", "InvalidInput", "Invalid input for operation: '' is not an integer."),
            (-1, "HTTPBadRequest", f"Invalid input for {attribute}. Reason: '-1' should be non-negative.")):
        for method, path in (("POST", "/subnetpools"), ("PUT", f"/subnetpools/{pool['id']}")):
            body = {"subnetpool": {attribute: value}}
            if method == "POST":
                body["subnetpool"].update(name=unique("p"), prefixes=["10.163.0.0/16"])
            error = _error(call(api, method, path, demo_token, body))
            assert (error["type"], error["message"]) == (kind, message)
    assert call(api, "GET", f"/subnetpools/{pool['id']}", demo_token, status=200).json()["subnetpool"] == pool
    assert call(api, "GET", f"/subnetpools?name={pool['name']}", demo_token, status=200).json()["subnetpools"] == [pool]


def test_subnet_prefixlen_must_be_an_integer(api, demo_token):
    pool = create(api, demo_token, "subnetpool", {"name": unique("p"), "prefixes": ["10.164.0.0/16"]})
    net = create(api, demo_token, "network", {"name": unique("n")})
    error = create(api, demo_token, "subnet", {"network_id": net["id"], "ip_version": 4, "subnetpool_id": pool["id"],
                                               "prefixlen": "wide"}, status=400)
    assert error == {"type": "InvalidInput", "message": "Invalid input for operation: 'wide' is not an integer.",
                     "detail": ""}


# -- strings ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["\ud800", "a\udfffb", "nul\u0000"])
def test_strings_no_database_stores_are_400(api, demo_token, text):
    net, sub = private(api, demo_token, "10.165.0.0/24")
    router = create(api, demo_token, "router", {"name": unique("r")})
    port = create(api, demo_token, "port", {"network_id": net["id"]})
    group = create(api, demo_token, "security_group", {"name": unique("sg")}, collection="security-groups")
    try:
        _strings_refused(api, demo_token, text, net, sub, router, port, group)
    finally:  # the demo project's quotas are shared by every test file of the worker
        for path in (f"/routers/{router['id']}", f"/ports/{port['id']}", f"/security-groups/{group['id']}",
                     f"/networks/{net['id']}"):
            call(api, "DELETE", path, demo_token)


def _strings_refused(api, demo_token, text, net, sub, router, port, group):
    for method, path, body in (
            ("POST", "/networks", {"network": {"name": text}}),
            ("POST", "/subnets", {"subnet": {"network_id": net["id"], "ip_version": 4, "cidr": "10.166.0.0/24",
                                             "name": text}}),
            ("POST", "/ports", {"port": {"network_id": net["id"], "device_id": text}}),
            ("POST", "/ports", {"port": {"network_id": text}}),
            ("POST", "/routers", {"router": {"name": "r", "description": text}}),
            ("POST", "/security-groups", {"security_group": {"name": text}}),
            ("POST", "/security-group-rules", {"security_group_rule": {
                "security_group_id": group["id"], "direction": "ingress", "description": text}}),
            ("POST", "/security-group-rules", {"security_group_rule": {
                "security_group_id": text, "direction": "ingress"}}),
            ("POST", "/subnetpools", {"subnetpool": {"name": text, "prefixes": ["10.167.0.0/16"]}}),
            ("POST", "/floatingips", {"floatingip": {"floating_network_id": text}}),
            ("PUT", f"/networks/{net['id']}", {"network": {"description": text}}),
            ("PUT", f"/subnets/{sub['id']}", {"subnet": {"name": text}}),
            ("PUT", f"/ports/{port['id']}", {"port": {"device_owner": text}}),
            ("PUT", f"/routers/{router['id']}", {"router": {"name": text}}),
            ("PUT", f"/routers/{router['id']}/add_router_interface", {"subnet_id": text}),
            ("PUT", f"/security-groups/{group['id']}", {"security_group": {"description": text}}),
            ("PUT", f"/networks/{net['id']}/tags", {"tags": [text]}),
            ("POST", "/networks", {"networks": [{"name": "fine"}, {"name": text}]})):
        error = _error(_raw(api, method, path, demo_token, json.dumps(body)))
        assert error["type"] == "HTTPBadRequest", (method, path, error)
    assert call(api, "GET", f"/ports/{port['id']}", demo_token, status=200).json()["port"]["device_owner"] == ""


@pytest.mark.parametrize("path", ["/networks/%00", "/networks?name=a%00b", "/quotas/%00", "/ports?device_id=%00",
                                  "/networks/x/tags/%00", "/security-group-rules/%00"])
def test_nul_in_urls_is_400(api, admin_token, path):
    assert _error(call(api, "GET", path, admin_token))["type"] == "HTTPBadRequest"


# -- nulls ---------------------------------------------------------------------------------------

def test_null_for_attributes_that_are_never_null(api, admin_token, demo_token):
    net, sub = private(api, demo_token, "10.168.0.0/24")
    port = create(api, admin_token, "port", {"network_id": net["id"], "binding:host_id": "h1",
                                             "binding:profile": {"a": "b"}, "project_id": net["project_id"]})
    updated = call(api, "PUT", f"/ports/{port['id']}", admin_token, {"port": {"binding:host_id": None}},
                   status=200).json()["port"]
    assert updated["binding:host_id"] == "h1"  # Neutron: not set, nothing changes
    updated = call(api, "PUT", f"/ports/{port['id']}", admin_token, {"port": {"binding:profile": None}},
                   status=200).json()["port"]
    assert updated["binding:profile"] == {}
    call(api, "PUT", f"/subnets/{sub['id']}", demo_token, {"subnet": {"dns_nameservers": ["10.0.0.53"],
                                                                     "host_routes": [{"destination": "10.9.0.0/16",
                                                                                      "nexthop": "10.168.0.9"}]}},
         status=200)
    updated = call(api, "PUT", f"/subnets/{sub['id']}", demo_token, {"subnet": {"dns_nameservers": None,
                                                                               "host_routes": None}},
                   status=200).json()["subnet"]
    assert (updated["dns_nameservers"], updated["host_routes"]) == ([], [])


def test_values_longer_than_their_columns_are_400(api, admin_token, demo_token):
    net, _ = private(api, demo_token, "10.169.0.0/24")
    port = create(api, demo_token, "port", {"network_id": net["id"]})
    vnic = "x" * 200
    reason = (f"Invalid input for binding:vnic_type. Reason: {vnic} is not in ['normal', 'direct', 'macvtap', "
              "'baremetal', 'direct-physical', 'virtio-forwarder', 'smart-nic', 'vdpa', 'accelerator-direct', "
              "'accelerator-direct-physical', 'remote-managed'].")
    for response in (call(api, "POST", "/ports", demo_token, {"port": {"network_id": net["id"],
                                                                       "binding:vnic_type": vnic}}),
                     call(api, "PUT", f"/ports/{port['id']}", demo_token, {"port": {"binding:vnic_type": vnic}})):
        assert _error(response) == {"type": "HTTPBadRequest", "message": reason, "detail": ""}
    direct = call(api, "PUT", f"/ports/{port['id']}", demo_token, {"port": {"binding:vnic_type": "direct"}},
                  status=200).json()["port"]
    assert direct["binding:vnic_type"] == "direct"
    project_id = "p" * 65
    error = _error(call(api, "PUT", f"/quotas/{project_id}", admin_token, {"quota": {"network": 5}}))
    assert error == {"type": "HTTPBadRequest", "detail": "",
                     "message": f"Invalid input for project_id. Reason: '{project_id}' exceeds maximum length of 64."}
