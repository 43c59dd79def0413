"""Three Neutron extensions clients call routinely: ``extraroute-atomic``
(``add_extraroutes``/``remove_extraroutes``), ``network-ip-availability`` and
``fip-port-details`` -- Neutron's semantics, policies and answers."""

from __future__ import annotations

import threading

from conftest import unique
from test_network_api import NET, call, create, external, other  # noqa: F401  (fixtures)


def _router_with_interface(api, token, cidr: str):
    net = create(api, token, "network", {"name": unique("rnet")})
    sub = create(api, token, "subnet", {"network_id": net["id"], "ip_version": 4, "cidr": cidr})
    router = create(api, token, "router", {"name": unique("r")})
    call(api, "PUT", f"/routers/{router['id']}/add_router_interface", token, {"subnet_id": sub["id"]}, status=200)
    return router, net, sub


def test_add_and_remove_extraroutes(api, demo_token):
    router, _, _ = _router_with_interface(api, demo_token, "10.71.0.0/24")
    path = f"/routers/{router['id']}"
    first = [{"destination": "10.80.0.0/24", "nexthop": "10.71.0.10"}]
    added = call(api, "PUT", path + "/add_extraroutes", demo_token, {"router": {"routes": first}},
                 status=200).json()["router"]
    assert added["id"] == router["id"] and added["routes"] == first and "external_gateway_info" in added
    # An exact duplicate is kept once; the same destination through another nexthop is
    # another route; host bits are dropped as for any route.
    more = [{"destination": "10.80.0.0/24", "nexthop": "10.71.0.10"},
            {"destination": "10.80.0.7/24", "nexthop": "10.71.0.11"}]
    routes = call(api, "PUT", path + "/add_extraroutes", demo_token, {"router": {"routes": more}},
                  status=200).json()["router"]["routes"]
    assert routes == first + [{"destination": "10.80.0.0/24", "nexthop": "10.71.0.11"}]
    # Removing a route that is not there is no error (the end state counts).
    routes = call(api, "PUT", path + "/remove_extraroutes", demo_token, {"router": {"routes": [
        {"destination": "10.80.0.0/24", "nexthop": "10.71.0.10"},
        {"destination": "10.99.0.0/24", "nexthop": "10.71.0.12"}]}}, status=200).json()["router"]["routes"]
    assert routes == [{"destination": "10.80.0.0/24", "nexthop": "10.71.0.11"}]
    assert call(api, "GET", path, demo_token, status=200).json()["router"]["routes"] == routes


def test_extraroutes_refusals(api, demo_token, other):
    router, _, _ = _router_with_interface(api, demo_token, "10.72.0.0/24")
    path = f"/routers/{router['id']}"
    for body in ({}, {"router": {}}, {"router": {"routes": "x"}}, {"router": {"routes": [], "name": "x"}},
                 {"router": {"routes": [{"destination": "10.1.0.0/24"}]}},
                 {"router": {"routes": [{"destination": "nope", "nexthop": "10.72.0.9"}]}}):
        r = call(api, "PUT", path + "/add_extraroutes", demo_token, body)
        assert r.status_code == 400 and "NeutronError" in r.json(), (body, r.text)
    # A nexthop on no subnet of the router: Neutron's InvalidRoutes, nothing changed.
    r = call(api, "PUT", path + "/add_extraroutes", demo_token,
             {"router": {"routes": [{"destination": "10.9.0.0/24", "nexthop": "192.0.2.1"}]}})
    assert r.status_code == 400 and r.json()["NeutronError"]["type"] == "InvalidRoutes"
    assert call(api, "GET", path, demo_token, status=200).json()["router"]["routes"] == []
    good = {"router": {"routes": [{"destination": "10.9.0.0/24", "nexthop": "10.72.0.9"}]}}
    assert call(api, "PUT", path + "/add_extraroutes", other["member"], good).status_code == 404
    assert call(api, "PUT", path + "/add_extraroutes", other["reader"], good).status_code == 404


def test_concurrent_extraroute_adds_are_all_kept(api, demo_token):
    """The point of the atomic API: N clients each adding one route all end up in the
    router's routes (a read-modify-write through PUT routes would lose some)."""
    router, _, _ = _router_with_interface(api, demo_token, "10.73.0.0/24")
    path = f"/routers/{router['id']}/add_extraroutes"
    wanted = [{"destination": f"10.{90 + i}.0.0/24", "nexthop": "10.73.0.5"} for i in range(8)]
    codes: list[int] = []

    def add(route):
        codes.append(call(api, "PUT", path, demo_token, {"router": {"routes": [route]}}).status_code)
    threads = [threading.Thread(target=add, args=(route,)) for route in wanted]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == [200] * len(wanted)
    routes = call(api, "GET", f"/routers/{router['id']}", demo_token, status=200).json()["router"]["routes"]
    assert sorted(r["destination"] for r in routes) == sorted(r["destination"] for r in wanted)


def test_network_ip_availability(api, admin_token, demo_token):
    net = create(api, admin_token, "network", {"name": unique("availnet")})
    v4 = create(api, admin_token, "subnet", {"network_id": net["id"], "ip_version": 4, "cidr": "10.74.0.0/24",
                                              "name": "v4", "allocation_pools": [
                                                  {"start": "10.74.0.10", "end": "10.74.0.19"},
                                                  {"start": "10.74.0.100", "end": "10.74.0.104"}]})
    v6 = create(api, admin_token, "subnet", {"network_id": net["id"], "ip_version": 6, "cidr": "fd00:74::/64",
                                              "name": "v6", "ipv6_address_mode": "dhcpv6-stateful",
                                              "ipv6_ra_mode": "dhcpv6-stateful"})
    for _ in range(3):
        create(api, admin_token, "port", {"network_id": net["id"], "fixed_ips": [{"subnet_id": v4["id"]}]})
    create(api, admin_token, "port", {"network_id": net["id"], "fixed_ips": [{"subnet_id": v6["id"]}]})
    shown = call(api, "GET", f"/network-ip-availabilities/{net['id']}", admin_token,
                 status=200).json()["network_ip_availability"]
    v6_total = 2 ** 64 - 2  # the default pool: the whole /64 but the gateway and the subnet-router anycast
    assert shown["network_id"] == net["id"] and shown["network_name"] == net["name"]
    assert shown["project_id"] == shown["tenant_id"] == net["project_id"]
    assert (shown["total_ips"], shown["used_ips"]) == (15 + v6_total, 4)
    by_name = {s["subnet_name"]: s for s in shown["subnet_ip_availability"]}
    assert by_name["v4"] == {"subnet_id": v4["id"], "subnet_name": "v4", "cidr": "10.74.0.0/24", "ip_version": 4,
                             "total_ips": 15, "used_ips": 3}
    assert (by_name["v6"]["total_ips"], by_name["v6"]["used_ips"]) == (v6_total, 1)
    listed = call(api, "GET", f"/network-ip-availabilities?network_id={net['id']}&ip_version=4", admin_token,
                  status=200).json()["network_ip_availabilities"]
    assert [(n["total_ips"], n["used_ips"], len(n["subnet_ip_availability"])) for n in listed] == [(15, 3, 1)]
    assert call(api, "GET", f"/network-ip-availabilities?network_name={net['name']}&fields=used_ips", admin_token,
                status=200).json() == {"network_ip_availabilities": [{"used_ips": 4}]}
    # A network without subnets is listed with nothing in it.
    bare = create(api, admin_token, "network", {"name": unique("bare")})
    assert call(api, "GET", f"/network-ip-availabilities/{bare['id']}", admin_token, status=200).json()[
        "network_ip_availability"]["subnet_ip_availability"] == []
    # Admin only, enforced as Neutron does on reads: nothing to see, a 404, never a 403.
    assert call(api, "GET", "/network-ip-availabilities", demo_token, status=200).json() == {
        "network_ip_availabilities": []}
    r = call(api, "GET", f"/network-ip-availabilities/{net['id']}", demo_token)
    assert r.status_code == 404 and r.json()["NeutronError"]["type"] == "NetworkNotFound"
    assert call(api, "GET", "/network-ip-availabilities/no-such-net", admin_token).status_code == 404


def test_floating_ip_port_details(api, admin_token, demo_token, external):  # noqa: F811
    ext_net, _ = external
    router, net, sub = _router_with_interface(api, demo_token, "10.75.0.0/24")
    call(api, "PUT", f"/routers/{router['id']}", demo_token,
         {"router": {"external_gateway_info": {"network_id": ext_net["id"]}}}, status=200)
    port = create(api, demo_token, "port", {"network_id": net["id"], "name": "fip-port",
                                            "device_id": "some-device", "device_owner": "compute:nova"})
    fip = create(api, demo_token, "floatingip", {"floating_network_id": ext_net["id"]})
    assert fip["port_details"] is None
    fip = call(api, "PUT", f"/floatingips/{fip['id']}", demo_token, {"floatingip": {"port_id": port["id"]}},
               status=200).json()["floatingip"]
    assert fip["port_details"] == {"name": "fip-port", "network_id": net["id"], "mac_address": port["mac_address"],
                                   "admin_state_up": True, "status": port["status"], "device_id": "some-device",
                                   "device_owner": "compute:nova"}
    listed = call(api, "GET", f"/floatingips?id={fip['id']}", demo_token, status=200).json()["floatingips"]
    assert listed[0]["port_details"] == fip["port_details"]
    r = call(api, "POST", "/floatingips", demo_token, {"floatingip": {"floating_network_id": ext_net["id"],
                                                                      "port_details": {}}})
    assert r.status_code == 400, r.text


def test_extensions_are_listed(api, demo_token):
    aliases = {e["alias"] for e in call(api, "GET", "/extensions", demo_token, status=200).json()["extensions"]}
    assert {"extraroute-atomic", "network-ip-availability", "fip-port-details"} <= aliases
