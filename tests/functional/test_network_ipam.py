"""IP address management under concurrency, on every backend (the seed-002 race).

Everything goes through the real API and the real database of the ``cloud`` fixture.
"""

from __future__ import annotations

import ipaddress
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from pocketstack.common.db.guard import RowLockForbidden

from conftest import unique

NET = "/network/v2.0"


def create(api, token, kind, body, status=201):
    r = api.request("POST", f"{NET}/{kind}s", token, json={kind: body})
    assert r.status_code == status, r.text
    return r.json()[kind] if status == 201 else r.json()["NeutronError"]


def network_with_subnet(api, token, cidr="10.10.0.0/26", **subnet):
    net = create(api, token, "network", {"name": unique("net")})
    sub = create(api, token, "subnet", {"network_id": net["id"], "ip_version": ipaddress.ip_network(cidr).version,
                                        "cidr": cidr, **subnet})
    return net, sub


def test_64_racing_port_creates_on_a_slash_26_get_62_distinct_addresses(api, demo_token):
    net, sub = network_with_subnet(api, demo_token, "10.20.0.0/26", gateway_ip=None)
    assert sub["allocation_pools"] == [{"start": "10.20.0.1", "end": "10.20.0.62"}]
    barrier = threading.Barrier(64)

    def one(i):
        barrier.wait()
        return api.request("POST", f"{NET}/ports", demo_token, json={"port": {"network_id": net["id"]}})

    with ThreadPoolExecutor(64) as pool:
        responses = list(pool.map(one, range(64)))
    ok = [r.json()["port"] for r in responses if r.status_code == 201]
    failed = [r for r in responses if r.status_code != 201]
    assert len(ok) == 62, [r.text for r in failed]
    addresses = [p["fixed_ips"][0]["ip_address"] for p in ok]
    assert len(set(addresses)) == 62
    assert all(ipaddress.ip_address(a) in ipaddress.ip_network("10.20.0.0/26") for a in addresses)
    assert len({p["mac_address"] for p in ok}) == 62
    assert [r.status_code for r in failed] == [409, 409]
    assert {r.json()["NeutronError"]["type"] for r in failed} == {"IpAddressGenerationFailure"}
    listed = api.request("GET", f"{NET}/ports?network_id={net['id']}", demo_token).json()["ports"]
    assert sorted(p["fixed_ips"][0]["ip_address"] for p in listed) == sorted(addresses)


def test_exhausted_pool_fails_fast_and_the_datapath_hears_only_commits(cloud, api, demo_token):
    net, _ = network_with_subnet(api, demo_token, "10.21.0.0/29",
                                 allocation_pools=[{"start": "10.21.0.2", "end": "10.21.0.3"}])
    driver = cloud.service("network").driver
    ports = [create(api, demo_token, "port", {"network_id": net["id"]}) for _ in range(2)]
    on_network = [p for p in driver.of("port_updated") if p["network_id"] == net["id"]]
    assert sorted(p["id"] for p in on_network) == sorted(p["id"] for p in ports)
    error = create(api, demo_token, "port", {"network_id": net["id"]}, status=409)
    assert error["type"] == "IpAddressGenerationFailure"
    assert error["message"] == f"No more IP addresses available on network {net['id']}."
    # The failed create was rolled back: the driver was told nothing about it.
    assert len([p for p in driver.of("port_updated") if p["network_id"] == net["id"]]) == 2


def test_explicit_addresses(api, demo_token):
    net, sub = network_with_subnet(api, demo_token, "10.22.0.0/24")
    port = create(api, demo_token, "port", {"network_id": net["id"],
                                            "fixed_ips": [{"subnet_id": sub["id"], "ip_address": "10.22.0.77"}]})
    assert port["fixed_ips"] == [{"subnet_id": sub["id"], "ip_address": "10.22.0.77"}]
    # By address only: the subnet is found from the address.
    other = create(api, demo_token, "port", {"network_id": net["id"], "fixed_ips": [{"ip_address": "10.22.0.78"}]})
    assert other["fixed_ips"][0]["subnet_id"] == sub["id"]
    taken = create(api, demo_token, "port", {"network_id": net["id"], "fixed_ips": [{"ip_address": "10.22.0.77"}]},
                   status=409)
    assert taken["type"] == "IpAddressAlreadyAllocated"
    for bad in ("10.22.0.0", "10.22.0.255", "not-an-ip"):
        error = create(api, demo_token, "port", {"network_id": net["id"], "fixed_ips": [
            {"subnet_id": sub["id"], "ip_address": bad}]}, status=400)
        assert error["type"] == "InvalidIpForSubnet"
    error = create(api, demo_token, "port", {"network_id": net["id"], "fixed_ips": [{"ip_address": "10.99.0.5"}]},
                   status=400)
    assert error["type"] == "InvalidIpForNetwork"
    # Freed addresses can be claimed again.
    assert api.request("DELETE", f"{NET}/ports/{port['id']}", demo_token).status_code == 204
    create(api, demo_token, "port", {"network_id": net["id"], "fixed_ips": [{"ip_address": "10.22.0.77"}]})


def test_racing_claims_of_the_same_explicit_address(api, demo_token):
    net, _ = network_with_subnet(api, demo_token, "10.23.0.0/24")
    barrier = threading.Barrier(8)

    def one(i):
        barrier.wait()
        return api.request("POST", f"{NET}/ports", demo_token,
                           json={"port": {"network_id": net["id"], "fixed_ips": [{"ip_address": "10.23.0.9"}]}})

    with ThreadPoolExecutor(8) as pool:
        codes = sorted(r.status_code for r in pool.map(one, range(8)))
    assert codes == [201] + [409] * 7


def test_explicit_mac_is_unique_per_network(api, demo_token):
    net, _ = network_with_subnet(api, demo_token, "10.24.0.0/24")
    port = create(api, demo_token, "port", {"network_id": net["id"], "mac_address": "FA:16:3E:00:00:01"})
    assert port["mac_address"] == "fa:16:3e:00:00:01"
    error = create(api, demo_token, "port", {"network_id": net["id"], "mac_address": "fa:16:3e:00:00:01"},
                   status=409)
    assert error["type"] == "MacAddressInUse"
    other, _ = network_with_subnet(api, demo_token, "10.25.0.0/24")
    create(api, demo_token, "port", {"network_id": other["id"], "mac_address": "fa:16:3e:00:00:01"})


def test_ipv6_slaac_address_is_the_eui64_of_the_mac(api, demo_token):
    net, sub = network_with_subnet(api, demo_token, "2001:db8:1::/64", ipv6_ra_mode="slaac",
                                   ipv6_address_mode="slaac")
    port = create(api, demo_token, "port", {"network_id": net["id"], "mac_address": "fa:16:3e:12:34:56"})
    assert port["fixed_ips"] == [{"subnet_id": sub["id"], "ip_address": "2001:db8:1:0:f816:3eff:fe12:3456"}]


def test_ipv6_stateful_allocates_from_the_pool(api, demo_token):
    net, sub = network_with_subnet(api, demo_token, "2001:db8:2::/120", ipv6_address_mode="dhcpv6-stateful",
                                   ipv6_ra_mode="dhcpv6-stateful")
    assert sub["gateway_ip"] == "2001:db8:2::1"
    assert sub["allocation_pools"] == [{"start": "2001:db8:2::2", "end": "2001:db8:2::ff"}]
    ip = create(api, demo_token, "port", {"network_id": net["id"]})["fixed_ips"][0]["ip_address"]
    assert ipaddress.ip_address("2001:db8:2::2") <= ipaddress.ip_address(ip) <= ipaddress.ip_address("2001:db8:2::ff")


def test_dual_stack_port_gets_one_address_per_family(api, demo_token):
    net, v4 = network_with_subnet(api, demo_token, "10.26.0.0/24")
    v6 = create(api, demo_token, "subnet", {"network_id": net["id"], "ip_version": 6, "cidr": "2001:db8:3::/64",
                                            "ipv6_address_mode": "slaac"})
    port = create(api, demo_token, "port", {"network_id": net["id"]})
    assert sorted(f["subnet_id"] for f in port["fixed_ips"]) == sorted([v4["id"], v6["id"]])


def test_segmentation_ids_are_allocated_uniquely(api, admin_token):
    ids = []
    for _ in range(5):
        net = create(api, admin_token, "network", {"name": unique("vlan"), "provider:network_type": "vlan",
                                                   "provider:physical_network": "physnet1"})
        assert 1000 <= net["provider:segmentation_id"] <= 2999
        ids.append(net["provider:segmentation_id"])
    assert len(set(ids)) == 5
    error = create(api, admin_token, "network", {"name": unique("vlan"), "provider:network_type": "vlan",
                                                 "provider:physical_network": "physnet1",
                                                 "provider:segmentation_id": ids[0]}, status=409)
    assert error["type"] == "VlanIdInUse"
    vxlan = create(api, admin_token, "network", {"name": unique("vx"), "provider:network_type": "vxlan",
                                                 "provider:segmentation_id": 4242})
    assert vxlan["provider:segmentation_id"] == 4242
    error = create(api, admin_token, "network", {"name": unique("vx"), "provider:network_type": "vxlan",
                                                 "provider:segmentation_id": 4242}, status=409)
    assert error["type"] == "TunnelIdInUse"
    error = create(api, admin_token, "network", {"name": unique("x"), "provider:network_type": "gre"}, status=400)
    assert error["type"] == "InvalidInput"


def test_racing_subnet_pool_allocations_get_disjoint_prefixes(api, admin_token):
    pool = create(api, admin_token, "subnetpool", {"name": unique("pool"), "prefixes": ["10.128.0.0/22"],
                                                   "default_prefixlen": 26})
    net = create(api, admin_token, "network", {"name": unique("net")})
    barrier = threading.Barrier(8)

    def one(i):
        barrier.wait()
        return api.request("POST", f"{NET}/subnets", admin_token, json={"subnet": {
            "network_id": net["id"], "ip_version": 4, "subnetpool_id": pool["id"]}})

    with ThreadPoolExecutor(8) as executor:
        responses = list(executor.map(one, range(8)))
    assert [r.status_code for r in responses] == [201] * 8, [r.text for r in responses]
    cidrs = [ipaddress.ip_network(r.json()["subnet"]["cidr"]) for r in responses]
    assert all(c.prefixlen == 26 and c.subnet_of(ipaddress.ip_network("10.128.0.0/22")) for c in cidrs)
    assert not any(a.overlaps(b) for i, a in enumerate(cidrs) for b in cidrs[i + 1:])
    # 16 /26s fit in the /22: 8 more succeed, the next one fails cleanly.
    for _ in range(8):
        create(api, admin_token, "subnet", {"network_id": net["id"], "ip_version": 4, "subnetpool_id": pool["id"]})
    error = create(api, admin_token, "subnet", {"network_id": net["id"], "ip_version": 4,
                                                "subnetpool_id": pool["id"]}, status=409)
    assert error["type"] == "SubnetAllocationError"


def test_racing_creates_never_exceed_the_quota(api, admin_token):
    project = api.request("POST", "/identity/v3/projects", admin_token,
                          json={"project": {"name": unique("proj")}}).json()["project"]
    r = api.request("PUT", f"{NET}/quotas/{project['id']}", admin_token, json={"quota": {"network": 5}})
    assert r.status_code == 200 and r.json()["quota"]["network"] == 5
    barrier = threading.Barrier(12)

    def one(i):
        barrier.wait()
        return api.request("POST", f"{NET}/networks", admin_token,
                           json={"network": {"name": unique("q"), "project_id": project["id"]}})

    with ThreadPoolExecutor(12) as pool:
        responses = list(pool.map(one, range(12)))
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] * 5 + [409] * 7
    assert {r.json()["NeutronError"]["type"] for r in responses if r.status_code == 409} == {"OverQuota"}
    details = api.request("GET", f"{NET}/quotas/{project['id']}/details", admin_token).json()["quota"]
    assert details["network"] == {"limit": 5, "used": 5, "reserved": 0}


def test_no_statement_ever_takes_a_row_lock(cloud, api, demo_token, admin_token):
    engine = cloud.db.engine
    # The guard is installed on the cloud's engine...
    with pytest.raises(RowLockForbidden):
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1 FOR UPDATE"))
    # ...and no network code path trips it.
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        ext = create(api, admin_token, "network", {"name": unique("ext"), "router:external": True})
        create(api, admin_token, "subnet", {"network_id": ext["id"], "ip_version": 4, "cidr": "172.30.0.0/24"})
        net, sub = network_with_subnet(api, demo_token, "10.27.0.0/24")
        port = create(api, demo_token, "port", {"network_id": net["id"]})
        router = create(api, demo_token, "router", {"name": unique("r"),
                                                    "external_gateway_info": {"network_id": ext["id"]}})
        r = api.request("PUT", f"{NET}/routers/{router['id']}/add_router_interface", demo_token,
                        json={"subnet_id": sub["id"]})
        assert r.status_code == 200, r.text
        fip = create(api, demo_token, "floatingip", {"floating_network_id": ext["id"], "port_id": port["id"]})
        assert fip["fixed_ip_address"] == port["fixed_ips"][0]["ip_address"]
        api.request("PUT", f"{NET}/ports/{port['id']}", demo_token, json={"port": {"name": "x"}})
        assert api.request("DELETE", f"{NET}/floatingips/{fip['id']}", demo_token).status_code == 204
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert statements
    locking = re.compile(r"\bFOR\s+(NO\s+KEY\s+)?UPDATE\b|\bFOR\s+SHARE\b|LOCK\s+IN\s+SHARE\s+MODE", re.I)
    assert not [s for s in statements if locking.search(s)]


def test_racing_allocations_in_a_large_pool_are_distinct(api, demo_token):
    """A /20 is probed blindly (no read per allocation); the unique constraint still decides."""
    net, sub = network_with_subnet(api, demo_token, "10.32.0.0/20")
    barrier = threading.Barrier(24)

    def one(i):
        barrier.wait()
        return api.request("POST", f"{NET}/ports", demo_token, json={"port": {"network_id": net["id"]}})

    with ThreadPoolExecutor(24) as pool:
        responses = list(pool.map(one, range(24)))
    assert [r.status_code for r in responses] == [201] * 24
    addresses = {r.json()["port"]["fixed_ips"][0]["ip_address"] for r in responses}
    assert len(addresses) == 24
