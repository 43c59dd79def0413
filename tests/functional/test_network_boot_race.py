"""Seed 002, end to end: 200 servers booted at once on one network get 200 distinct fixed
IPs, one port each, and deleting them all leaves no port and no address behind.

The boots go through the Compute API (so the allocation runs in the build, as in Nova),
on fake hosts in a zone of the test's own with room for all of them, and on a /24 whose
253 addresses leave room for 200 — every boot must succeed.  The leak check reads the
network tables directly: the API could hide a leaked row, the database cannot."""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from pocketstack.network.models import IpAllocation, Port, QuotaSlot

from compute_fixtures import image  # noqa: F401 - fixtures
from conftest import unique
from test_compute_helpers import add_hosts, call, make_flavor, new_member, retire

NET = "/network/v2.0"
SERVERS = 200


def _network(api, token) -> tuple[dict, dict]:
    net = api.request("POST", f"{NET}/networks", token, json={"network": {"name": unique("racenet")}})
    assert net.status_code == 201, net.text
    sub = api.request("POST", f"{NET}/subnets", token, json={"subnet": {
        "network_id": net.json()["network"]["id"], "ip_version": 4, "cidr": "10.200.0.0/24"}})
    assert sub.status_code == 201, sub.text
    return net.json()["network"], sub.json()["subnet"]


def _concurrently(fn, items) -> list:
    with ThreadPoolExecutor(max_workers=50) as pool:
        return list(pool.map(fn, items))


def _settled(api, token, ids: set[str], timeout: float = 280.0) -> list[dict]:
    """The servers once none of them has a task in progress."""
    deadline = time.monotonic() + timeout
    while True:
        servers = [s for s in call(api, "GET", "/servers/detail", token).json()["servers"] if s["id"] in ids]
        if len(servers) == len(ids) and all(s["OS-EXT-STS:task_state"] is None for s in servers):
            return servers
        assert time.monotonic() < deadline, "builds did not settle"
        time.sleep(0.2)


def _gone(api, token, timeout: float = 280.0) -> None:
    deadline = time.monotonic() + timeout
    while call(api, "GET", "/servers", token).json()["servers"]:
        assert time.monotonic() < deadline, "servers were not deleted"
        time.sleep(0.2)


def _rows(cloud, subnet_id: str, server_ids: set[str], project_id: str) -> dict:
    with cloud.db.session(readonly=True) as s:
        ports = list(s.execute(sa.select(Port.id, Port.device_id).where(Port.device_id.in_(server_ids))))
        ips = list(s.execute(sa.select(IpAllocation.port_id, IpAllocation.ip_address)
                             .where(IpAllocation.subnet_id == subnet_id)))
        slots = s.scalar(sa.select(sa.func.count()).select_from(QuotaSlot).where(
            QuotaSlot.project_id == project_id, QuotaSlot.resource == "port"))
    return {"ports": ports, "ips": ips, "port_slots": slots}


@pytest.mark.timeout(600)  # two waits of up to 280 s (boots, deletes) on a loaded CI machine
def test_200_concurrent_boots_on_one_network(api, admin_token, image, cloud):
    user = new_member(api, admin_token)
    token, project_id = user["token"], user["project"]["id"]
    call(api, "PUT", f"/os-quota-sets/{project_id}", admin_token,
         json={"quota_set": {"instances": -1, "cores": -1, "ram": -1}})
    zone = unique("zone")
    nodes = add_hosts(api, zone, [SERVERS // 2, SERVERS // 2])
    try:
        flavor = make_flavor(api, admin_token, vcpus=1, ram=16, disk=0)
        net, sub = _network(api, token)

        def boot(i):
            return call(api, "POST", "/servers", token, json={"server": {
                "name": f"netrace-{i}", "imageRef": image, "flavorRef": flavor["id"],
                "networks": [{"uuid": net["id"]}], "availability_zone": zone}})

        responses = _concurrently(boot, range(SERVERS))
        refused = {r.text for r in responses if r.status_code != 202}
        assert not refused, refused
        ids = {r.json()["server"]["id"] for r in responses}
        servers = _settled(api, token, ids)
        faults = Counter(s.get("fault", {}).get("message") for s in servers if s["status"] != "ACTIVE")
        assert not faults, faults

        # Exactly one port per server, and no address handed out twice.
        rows = _rows(cloud, sub["id"], ids, project_id)
        assert Counter(device for _, device in rows["ports"]) == Counter({i: 1 for i in ids})
        addresses = [ip for _, ip in rows["ips"]]
        assert len(addresses) == len(set(addresses)) == SERVERS
        assert {port for port, _ in rows["ips"]} == {port for port, _ in rows["ports"]}
        assert rows["port_slots"] == SERVERS
        shown = [a["addr"] for s in servers for a in s["addresses"][net["name"]]]
        assert sorted(shown) == sorted(addresses)

        deleted = _concurrently(lambda i: call(api, "DELETE", f"/servers/{i}", token), ids)
        assert [r.status_code for r in deleted] == [204] * SERVERS
        _gone(api, token)
        assert _rows(cloud, sub["id"], ids, project_id) == {"ports": [], "ips": [], "port_slots": 0}
    finally:
        retire(api, nodes)
