"""Concurrency: 200 simultaneous boots never over-commit a host or exceed a quota.

Both tests get their own availability zone of fresh fake hosts, so the capacity they
reason about is exactly theirs."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from compute_fixtures import image  # noqa: F401 - fixtures
from conftest import unique
from test_compute_helpers import add_hosts, call, make_flavor, new_member, retire

REQUESTS = 200


def boot_all(api, token, image, flavor_id, zone) -> list:
    def one(i):
        return call(api, "POST", "/servers", token, json={"server": {
            "name": f"race-{i}", "imageRef": image, "flavorRef": flavor_id, "networks": "none",
            "availability_zone": zone}})
    with ThreadPoolExecutor(max_workers=50) as pool:
        return list(pool.map(one, range(REQUESTS)))


def settle(api, token, timeout: float = 240.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        servers = call(api, "GET", "/servers/detail", token).json()["servers"]
        if all(s["OS-EXT-STS:task_state"] is None for s in servers):
            return servers
        assert time.monotonic() < deadline, "builds did not settle"
        time.sleep(0.2)


def unlimited(api, admin_token, project_id):
    call(api, "PUT", f"/os-quota-sets/{project_id}", admin_token,
         json={"quota_set": {"instances": -1, "cores": -1, "ram": -1}})


def test_capacity_race(api, admin_token, image):
    user = new_member(api, admin_token)
    unlimited(api, admin_token, user["project"]["id"])
    zone = unique("zone")
    nodes = add_hosts(api, zone, [38, 38, 37, 37])  # room for exactly 150 one-vCPU servers
    flavor = make_flavor(api, admin_token, vcpus=1, ram=16, disk=0)
    responses = boot_all(api, user["token"], image, flavor["id"], zone)
    assert [r.status_code for r in responses] == [202] * REQUESTS
    servers = settle(api, user["token"])
    statuses = [s["status"] for s in servers]
    assert statuses.count("ACTIVE") == 150 and statuses.count("ERROR") == 50
    assert all(s["fault"]["message"].startswith("No valid host was found.") for s in servers
               if s["status"] == "ERROR")
    placement = api.cloud.service("placement").manager
    total = 0
    for node in nodes:
        used = placement.usages(node.id).get("VCPU", 0)
        assert used <= node.vcpus
        total += used
    allocated = sum(sum(a.get("VCPU", 0) for a in placement.get_allocations(s["id"]).values()) for s in servers)
    assert total == allocated == 150
    retire(api, nodes)


def test_quota_race(api, admin_token, image):
    user = new_member(api, admin_token)
    project_id = user["project"]["id"]
    call(api, "PUT", f"/os-quota-sets/{project_id}", admin_token,
         json={"quota_set": {"instances": 100, "cores": -1, "ram": -1}})
    zone = unique("zone")
    nodes = add_hosts(api, zone, [1])
    flavor = make_flavor(api, admin_token, vcpus=1, ram=16, disk=0)
    responses = boot_all(api, user["token"], image, flavor["id"], zone)
    codes = [r.status_code for r in responses]
    assert codes.count(202) == 100 and codes.count(403) == 100
    assert all("Quota exceeded for instances" in r.json()["forbidden"]["message"] for r in responses
               if r.status_code == 403)
    settle(api, user["token"])
    detail = call(api, "GET", f"/os-quota-sets/{project_id}/detail", user["token"]).json()["quota_set"]
    assert detail["instances"]["in_use"] == 100
    retire(api, nodes)
