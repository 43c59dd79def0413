"""Metering labels on the Linux datapath with real packets, through the network API of an
in-process cloud (test_network_datapath.py's ``api_world``: veth "guests" in test
namespaces on ports the API made).

A client behind a router pings two addresses of a namespace on the external network.  A
label of the router's project has an egress rule for the external subnet and an excluded
rule for one address of it: the label's count grows with the pings to the other address
only; the excluded rule counts what it leaves out.  Adding a rule rewrites the router's
metering table without losing the counts; deleting the label removes its table.
"""

from __future__ import annotations

import functools

from test_network_datapath import api_world, network_call  # noqa: F401  (api_world: the fixture)

from support import sh

PINGS = 3


def test_a_label_counts_its_rules_traffic_and_not_the_excluded(api_world):  # noqa: F811
    w = api_world
    r = w.r
    call = functools.partial(network_call, w)
    net = call("POST", "networks", {"network": {"name": "m-net"}})["network"]
    subnet = call("POST", "subnets", {"subnet": {"network_id": net["id"], "ip_version": 4,
                                                 "cidr": f"10.{r}.6.0/24"}})["subnet"]
    ext = call("POST", "networks", {"network": {"name": "m-ext", "router:external": True}})["network"]
    ext_subnet = call("POST", "subnets", {"subnet": {"network_id": ext["id"], "ip_version": 4, "enable_dhcp": False,
                                                     "cidr": f"172.29.{r}.0/24"}})["subnet"]
    outside = call("POST", "ports", {"port": {"network_id": ext["id"], "name": "outside",
                                              "port_security_enabled": False, "fixed_ips": [
                                                  {"subnet_id": ext_subnet["id"], "ip_address": f"172.29.{r}.1"}]}})
    client = call("POST", "ports", {"port": {"network_id": net["id"], "name": "client"}})["port"]
    w.ports.update(outside=outside["port"], client=client)
    w.guest("outside", "outside")
    w.static("outside", f"172.29.{r}.1/24")
    sh("ip", "-n", w.guests["outside"], "addr", "add", f"172.29.{r}.2/24", "dev", "eth0")
    w.guest("client", "client")
    assert w.dhcp("client")[0] == client["fixed_ips"][0]["ip_address"]
    router = call("POST", "routers", {"router": {"name": "m-router", "external_gateway_info": {
        "network_id": ext["id"]}}})["router"]
    call("PUT", f"routers/{router['id']}/add_router_interface", {"subnet_id": subnet["id"]}, status=200)
    assert w.reaches("client", f"172.29.{r}.1") and w.reaches("client", f"172.29.{r}.2")

    label = call("POST", "metering/metering-labels", {"metering_label": {"name": "m-label"}})["metering_label"]
    counted = call("POST", "metering/metering-label-rules", {"metering_label_rule": {
        "metering_label_id": label["id"], "direction": "egress",
        "remote_ip_prefix": f"172.29.{r}.0/24"}})["metering_label_rule"]
    excluded = call("POST", "metering/metering-label-rules", {"metering_label_rule": {
        "metering_label_id": label["id"], "direction": "egress", "excluded": True,
        "remote_ip_prefix": f"172.29.{r}.1/32"}})["metering_label_rule"]
    ns = w.driver.router_ns(router["id"])
    listing = sh("ip", "netns", "exec", ns, "nft", "list", "table", "inet", "pocketstack-metering").stdout
    assert f"ip daddr 172.29.{r}.1 counter" in listing and f"ip daddr 172.29.{r}.0/24 counter" in listing

    def counts() -> dict:
        return w.driver.metering_counters()[label["id"]]

    start = counts()
    assert start["rules"].keys() == {counted["id"], excluded["id"]}
    for _ in range(PINGS):
        assert w.ping("client", f"172.29.{r}.1")  # excluded: not the label's
    after_excluded = counts()
    assert after_excluded["packets"] == start["packets"]
    assert after_excluded["excluded_packets"] >= start["excluded_packets"] + PINGS
    for _ in range(PINGS):
        assert w.ping("client", f"172.29.{r}.2")  # counted (egress: the echo requests)
    after_counted = counts()
    assert after_counted["packets"] >= after_excluded["packets"] + PINGS
    assert after_counted["bytes"] >= after_excluded["bytes"] + PINGS * 84  # an 84-byte IPv4 echo each
    assert after_counted["rules"][counted["id"]]["packets"] == after_counted["packets"]
    # the agent reports each label's counts in its configurations
    assert w.driver.status()["metering_labels"][label["id"]]["packets"] == after_counted["packets"]

    # Another rule rewrites the table: the counts carry over.
    call("POST", "metering/metering-label-rules", {"metering_label_rule": {
        "metering_label_id": label["id"], "direction": "ingress", "remote_ip_prefix": f"172.29.{r}.0/24"}})
    assert counts()["packets"] >= after_counted["packets"]
    assert w.ping("client", f"172.29.{r}.2")
    assert counts()["packets"] >= after_counted["packets"] + 2  # the echo out (egress) and its reply (ingress)
    # A label of another project does not meter this router.
    other = call("POST", "metering/metering-labels", {"metering_label": {
        "name": "m-other", "project_id": "0123456789abcdef0123456789abcdef"}})["metering_label"]
    call("POST", "metering/metering-label-rules", {"metering_label_rule": {
        "metering_label_id": other["id"], "direction": "egress", "remote_ip_prefix": "0.0.0.0/0"}})
    assert w.ping("client", f"172.29.{r}.2")
    assert w.driver.metering_counters()[other["id"]]["packets"] == 0
    call("DELETE", f"metering/metering-labels/{label['id']}", status=204)
    call("DELETE", f"metering/metering-labels/{other['id']}", status=204)
    assert "pocketstack-metering" not in sh("ip", "netns", "exec", ns, "nft", "list", "tables").stdout
    assert w.driver.last_error is None
