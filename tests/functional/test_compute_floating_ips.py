"""Nova's floating IP proxy (``os-floating-ips``, ``os-floating-ip-pools``, the
add/removeFloatingIp actions) and the ``ip``/``ip6`` server-list filters, served by the
network service."""

from __future__ import annotations

import pytest
from test_compute_network import NET, network

from compute_fixtures import member  # noqa: F401 - fixtures
from conftest import unique
from test_compute_helpers import boot, call, make_flavor, make_image, wait, wait_gone

V = "2.1"


@pytest.fixture(scope="module")
def pool(api, admin_token):
    """An external network (the pool) with an IPv4 subnet."""
    r = api.request("POST", f"{NET}/networks", admin_token, json={"network": {
        "name": unique("pool"), "router:external": True}})
    assert r.status_code == 201, r.text
    net = r.json()["network"]
    r = api.request("POST", f"{NET}/subnets", admin_token, json={"subnet": {
        "network_id": net["id"], "ip_version": 4, "cidr": "198.51.100.0/24"}})
    assert r.status_code == 201, r.text
    return net


@pytest.fixture(scope="module")
def servers(api, admin_token, member, pool):
    """Two servers on a tenant network routed to the pool, with addresses 10.93.0.11/.12."""
    token = member["token"]
    net, subnet = network(api, token, "10.93.0.0/24")
    r = api.request("POST", f"{NET}/routers", token, json={"router": {
        "name": unique("r"), "external_gateway_info": {"network_id": pool["id"]}}})
    assert r.status_code == 201, r.text
    r = api.request("PUT", f"{NET}/routers/{r.json()['router']['id']}/add_router_interface", token,
                    json={"subnet_id": subnet["id"]})
    assert r.status_code == 200, r.text
    image, flavor = make_image(api, admin_token), make_flavor(api, admin_token)["id"]
    ids = [boot(api, token, image, flavor, name=unique("fipvm"),
                networks=[{"uuid": net["id"], "fixed_ip": f"10.93.0.{11 + i}"}])["server"]["id"] for i in range(2)]
    for server_id in ids:
        wait(api, token, server_id)
    yield ids
    for server_id in ids:
        call(api, "DELETE", f"/servers/{server_id}", token)
    for server_id in ids:
        wait_gone(api, token, server_id)


def allocate(api, token, pool_name, expect=200):
    r = call(api, "POST", "/os-floating-ips", token, version=V, json={"pool": pool_name})
    assert r.status_code == expect, r.text
    return r.json()


def action(api, token, server_id, body, expect=202):
    r = call(api, "POST", f"/servers/{server_id}/action", token, version=V, json=body)
    assert r.status_code == expect, r.text
    return r


def test_pools_list_the_external_networks(api, member, pool):
    tenant_net, _ = network(api, member["token"], "10.94.0.0/24")
    r = call(api, "GET", "/os-floating-ip-pools", member["token"], version=V)
    assert r.status_code == 200, r.text
    assert {"name": pool["name"]} in r.json()["floating_ip_pools"]
    assert {"name": tenant_net["name"]} not in r.json()["floating_ip_pools"]
    assert call(api, "GET", "/os-floating-ip-pools", member["token"], version="2.36").status_code == 404


def test_allocate_show_list_release(api, member, pool):
    token = member["token"]
    fip = allocate(api, token, pool["name"])["floating_ip"]
    assert fip["ip"].startswith("198.51.100.")
    assert fip == {"id": fip["id"], "ip": fip["ip"], "pool": pool["name"], "fixed_ip": None, "instance_id": None}
    shown = call(api, "GET", f"/os-floating-ips/{fip['id']}", token, version=V).json()["floating_ip"]
    assert shown == fip
    listed = call(api, "GET", "/os-floating-ips", token, version=V).json()["floating_ips"]
    assert fip in listed
    by_id = allocate(api, token, pool["id"])["floating_ip"]  # a pool may be named by its id too
    for one in (fip, by_id):
        assert call(api, "DELETE", f"/os-floating-ips/{one['id']}", token, version=V).status_code == 202
    r = call(api, "GET", f"/os-floating-ips/{fip['id']}", token, version=V)
    assert r.status_code == 404 and r.json()["itemNotFound"]["message"] == f"Floating IP not found for ID {fip['id']}"
    assert call(api, "DELETE", f"/os-floating-ips/{fip['id']}", token, version=V).status_code == 404
    assert call(api, "GET", "/os-floating-ips/not-a-uuid", token, version=V).status_code == 404
    assert call(api, "GET", "/os-floating-ips", token, version="2.36").status_code == 404


def test_bad_allocations(api, member):
    token = member["token"]
    r = call(api, "POST", "/os-floating-ips", token, version=V, json={"pool": unique("nopool")})
    assert r.status_code == 404 and r.json()["itemNotFound"]["message"] == "Floating IP pool not found."
    assert call(api, "POST", "/os-floating-ips", token, version=V, json={"pool": 7}).status_code == 400


def test_associate_move_and_disassociate(api, member, pool, servers):
    token = member["token"]
    first, second = servers
    fip = allocate(api, token, pool["name"])["floating_ip"]

    def shown():
        return call(api, "GET", f"/os-floating-ips/{fip['id']}", token, version=V).json()["floating_ip"]

    action(api, token, first, {"addFloatingIp": {"address": fip["ip"]}})
    assert (shown()["instance_id"], shown()["fixed_ip"]) == (first, "10.93.0.11")
    addresses = call(api, "GET", f"/servers/{first}", token, version=V).json()["server"]["addresses"]
    assert {"addr": fip["ip"], "OS-EXT-IPS:type": "floating"}.items() <= \
        next(a for addrs in addresses.values() for a in addrs if a["addr"] == fip["ip"]).items()
    # Associating an IP already associated elsewhere moves it (Nova, over Neutron).
    action(api, token, second, {"addFloatingIp": {"address": fip["ip"], "fixed_address": "10.93.0.12"}})
    assert (shown()["instance_id"], shown()["fixed_ip"]) == (second, "10.93.0.12")
    r = action(api, token, first, {"removeFloatingIp": {"address": fip["ip"]}}, expect=409)
    assert "is not associated with instance" in r.json()["conflictingRequest"]["message"]
    action(api, token, second, {"removeFloatingIp": {"address": fip["ip"]}})
    assert (shown()["instance_id"], shown()["fixed_ip"]) == (None, None)
    action(api, token, second, {"removeFloatingIp": {"address": fip["ip"]}}, expect=409)
    call(api, "DELETE", f"/os-floating-ips/{fip['id']}", token, version=V)


@pytest.mark.parametrize("body, status", [
    ({"addFloatingIp": {"address": "198.51.100.250"}}, 404),          # no such floating IP
    ({"addFloatingIp": {"address": "not-an-ip"}}, 400),
    ({"addFloatingIp": {}}, 400),
    ({"addFloatingIp": {"address": "{fip}", "fixed_address": "10.93.0.99"}}, 400),  # not the server's
    ({"removeFloatingIp": {"address": "not-an-ip"}}, 400),
])
def test_bad_floating_ip_actions(api, member, pool, servers, body, status):
    token = member["token"]
    fip = allocate(api, token, pool["name"])["floating_ip"]
    (name, args), = body.items()
    args = {k: (fip["ip"] if v == "{fip}" else v) for k, v in args.items()}
    action(api, token, servers[0], {name: args}, expect=status)
    call(api, "DELETE", f"/os-floating-ips/{fip['id']}", token, version=V)


@pytest.mark.parametrize("query, expected", [
    ("ip=10.93.0.11", [0]),
    ("ip=%5E10%5C.93%5C.0%5C.12%24", [1]),   # ^10\.93\.0\.12$, as Nova's clients send it
    ("ip=10.93.0.1", [0, 1]),                 # a prefix matches both
    ("ip=10%5C.93.*1%5B12%5D", [0, 1]),       # a real regular expression
    ("ip=93.0.11", []),                       # matched from the start, as Nova's re.match
    ("ip=10.99.", []),
    ("ip6=fd00", []),                         # no IPv6 addresses at all
])
def test_ip_filters(api, member, servers, query, expected):
    for path in ("/servers", "/servers/detail"):
        r = call(api, "GET", f"{path}?{query}", member["token"])
        assert r.status_code == 200, r.text
        assert {s["id"] for s in r.json()["servers"]} == {servers[i] for i in expected}


def test_ip_filter_combines_with_others_and_rejects_bad_regex(api, member, servers):
    token = member["token"]
    name = call(api, "GET", f"/servers/{servers[0]}", token).json()["server"]["name"]
    r = call(api, "GET", f"/servers?ip=10.93.0.1&name={name}", token)
    assert [s["id"] for s in r.json()["servers"]] == [servers[0]]
    r = call(api, "GET", "/servers?ip=10.93.(", token)
    assert r.status_code == 400 and "badRequest" in r.json()
