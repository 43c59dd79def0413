"""Address groups on the Linux datapath with real packets, through the network API of an
in-process cloud (test_network_datapath.py's ``api_world``: veth "guests" in test
namespaces on ports the API made).

A server's security group admits TCP from an address group: the client, whose address is
in the group, reaches the listener; once ``remove_addresses`` takes the address out it no
longer does, and ``add_addresses`` (its whole subnet, and itself) lets it in again.  Each change
rewrites the group's nftables set in place: the tables are never replaced.
"""

from __future__ import annotations

import functools
import json

from test_network_datapath import api_world, network_call, tables  # noqa: F401  (api_world: the fixture)

from support import sh

PORT = 8091


def test_an_address_group_admits_its_addresses_and_follows_their_changes(api_world):  # noqa: F811
    w = api_world
    r = w.r

    call = functools.partial(network_call, w)

    net = call("POST", "networks", {"network": {"name": "ag-net"}})["network"]
    call("POST", "subnets", {"subnet": {"network_id": net["id"], "ip_version": 4, "cidr": f"10.{r}.9.0/24"}})
    web = call("POST", "security-groups", {"security_group": {"name": "ag-web"}})["security_group"]
    client = call("POST", "ports", {"port": {"network_id": net["id"], "name": "client"}})["port"]
    server = call("POST", "ports", {"port": {"network_id": net["id"], "name": "server",
                                             "security_groups": [web["id"]]}})["port"]
    w.ports.update(client=client, server=server)
    for name in ("client", "server"):
        w.guest(name, name)
        assert w.dhcp(name)[:1] == [w.ports[name]["fixed_ips"][0]["ip_address"]]
    client_ip, server_ip = (p["fixed_ips"][0]["ip_address"] for p in (client, server))
    w.serve("server", PORT)
    assert not w.connect("client", server_ip, PORT)  # ag-web admits nothing yet
    group = call("POST", "address-groups", {"address_group": {"name": "clients",
                                                              "addresses": [f"{client_ip}/32"]}})["address_group"]
    call("POST", "security-group-rules", {"security_group_rule": {
        "security_group_id": web["id"], "direction": "ingress", "protocol": "tcp", "port_range_min": PORT,
        "port_range_max": PORT, "remote_address_group_id": group["id"]}})
    assert w.eventually_connects("client", server_ip, PORT, within=2.0)
    handles = tables(w)
    call("PUT", f"address-groups/{group['id']}/remove_addresses", {"addresses": [f"{client_ip}/32"]}, status=200)
    assert not w.connect("client", server_ip, PORT)
    assert elements(w, f"ag-{group['id']}-v4") == []
    # Overlapping addresses (the subnet and the client in it) merge in the set.
    call("PUT", f"address-groups/{group['id']}/add_addresses", {"addresses": [f"10.{r}.9.0/24", client_ip]},
         status=200)
    assert w.eventually_connects("client", server_ip, PORT, within=2.0)
    assert elements(w, f"ag-{group['id']}-v4") == [{"prefix": {"addr": f"10.{r}.9.0", "len": 24}}]
    assert tables(w) == handles  # the group's set changed in place, never the tables
    call("DELETE", f"address-groups/{group['id']}", status=409)  # in use by the rule
    assert w.driver.last_error is None


def elements(w, name: str) -> list:
    """The elements of a set of the datapath's inet table, as ``nft -j`` lists them."""
    listing = json.loads(sh("ip", "netns", "exec", w.driver.host_ns, "nft", "-j", "list", "set", "inet",
                            "pocketstack", name).stdout)
    [found] = [item["set"] for item in listing["nftables"] if "set" in item]
    return found.get("elem", [])
