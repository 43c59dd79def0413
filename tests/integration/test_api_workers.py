"""``pocketstack up --api-workers N``: the APIs served by several processes.

The extra processes only serve HTTP; everything that needs a worker (a build, a console
log by RPC call, a volume, a datapath change) goes to the primary's broker through the
bridge.  Connections are spread by the kernel, so each check makes many fresh
connections and then proves from /proc that the extra process did serve some.
"""

from __future__ import annotations

import os
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from cloudproc import admin_token, eventually, running_cloud

pytestmark = pytest.mark.timeout(240)


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def api_workers(proc) -> list[int]:
    return [pid for pid in children(proc.process.pid)
            if b"pocketstack.cli.api_workers" in Path(f"/proc/{pid}/cmdline").read_bytes()]


def fresh(url: str, tok: str, method: str, path: str, **kwargs) -> httpx.Response:
    """One request on its own connection (so the kernel picks a process for each)."""
    with httpx.Client(base_url=url, headers={"X-Auth-Token": tok}, timeout=60) as client:
        return client.request(method, path, **kwargs)


@pytest.fixture(scope="module")
def cloud_proc(tmp_path_factory):
    with running_cloud(tmp_path_factory.mktemp("api-workers"), "--api-workers", "2") as proc:
        eventually(lambda: len(api_workers(proc)) == 1, timeout=30)
        yield proc


def test_every_kind_of_request_works_whichever_process_takes_it(cloud_proc):
    url = cloud_proc.url
    tok, project = admin_token(url)
    (extra,) = api_workers(cloud_proc)
    before = cpu_seconds(extra)
    net = fresh(url, tok, "POST", "/network/v2.0/networks", json={"network": {"name": "w"}}).json()["network"]
    assert fresh(url, tok, "POST", "/network/v2.0/subnets", json={"subnet": {
        "network_id": net["id"], "cidr": "10.9.0.0/24", "ip_version": 4}}).status_code == 201
    flavor = fresh(url, tok, "POST", "/compute/v2.1/flavors", json={"flavor": {
        "name": "w", "ram": 64, "vcpus": 1, "disk": 0}}).json()["flavor"]
    image = fresh(url, tok, "POST", "/image/v2/images", json={
        "name": "w", "disk_format": "raw", "container_format": "bare"}).json()
    assert fresh(url, tok, "PUT", f"/image/v2/images/{image['id']}/file", content=b"x" * 4096,
                 headers={"Content-Type": "application/octet-stream"}).status_code == 204

    def boot(i: int) -> str:
        response = fresh(url, tok, "POST", "/compute/v2.1/servers", json={"server": {
            "name": f"w{i}", "imageRef": image["id"], "flavorRef": flavor["id"],
            "networks": [{"uuid": net["id"]}]}})
        assert response.status_code == 202, response.text
        return response.json()["server"]["id"]

    with ThreadPoolExecutor(4) as pool:
        servers = list(pool.map(boot, range(8)))

    def all_active():
        states = {fresh(url, tok, "GET", f"/compute/v2.1/servers/{s}").json()["server"]["status"] for s in servers}
        assert "ERROR" not in states, states
        return states == {"ACTIVE"}

    eventually(all_active, timeout=90)
    for server in servers:  # an RPC call from whichever process answers, replied through the bridge
        response = fresh(url, tok, "POST", f"/compute/v2.1/servers/{server}/action",
                         json={"os-getConsoleOutput": {"length": 5}})
        assert response.status_code == 200 and "booting" in response.json()["output"], response.text
    volume = fresh(url, tok, "POST", f"/volume/v3/{project}/volumes", json={"volume": {"size": 1}}).json()["volume"]
    eventually(lambda: fresh(url, tok, "GET", f"/volume/v3/{project}/volumes/{volume['id']}").json()["volume"]["status"]
               == "available", timeout=30)
    ports = fresh(url, tok, "GET", "/network/v2.0/ports", params={"network_id": net["id"]}).json()["ports"]
    assert {p["status"] for p in ports if p["device_owner"].startswith("compute:")} == {"ACTIVE"}
    assert cpu_seconds(extra) - before > 0.05, "the extra API process served nothing"


def test_a_dead_api_worker_is_replaced_and_the_cloud_keeps_serving(cloud_proc):
    url = cloud_proc.url
    tok, _ = admin_token(url)
    (extra,) = api_workers(cloud_proc)
    os.kill(extra, signal.SIGKILL)
    for _ in range(5):
        assert fresh(url, tok, "GET", "/compute/v2.1/flavors").status_code == 200
    replacement = eventually(lambda: [p for p in api_workers(cloud_proc) if p != extra], timeout=30)
    assert len(replacement) == 1
    assert "API worker 1" in cloud_proc.log() and "starting it again" in cloud_proc.log()


def test_a_live_reset_works_whichever_process_takes_it(cloud_proc):
    """The default cloud (several API processes) resets while it runs: a process that only
    serves HTTP asks the primary, which starts the workers again on a fresh broker, and
    both processes' RPC goes on through it.  Resets and a snapshot restore on fresh
    connections (the kernel picks the process), with the extra process shown to take part."""
    url = cloud_proc.url
    tok, _ = admin_token(url)
    eventually(lambda: len(api_workers(cloud_proc)) == 1, timeout=30)  # after the replacement above, if any
    (extra,) = api_workers(cloud_proc)
    assert fresh(url, tok, "POST", "/_pocketstack/snapshots", json={"snapshot": {"name": "empty"}}).status_code == 201
    before = cpu_seconds(extra)
    for round_ in range(8):
        net = fresh(url, tok, "POST", "/network/v2.0/networks", json={"network": {"name": f"r{round_}"}})
        assert net.status_code == 201, net.text
        path = "/_pocketstack/reset" if round_ % 2 else "/_pocketstack/snapshots/empty/restore"
        response = fresh(url, tok, "POST", path)
        assert response.status_code == 200, response.text
        assert response.json()["reset"]["state"] == ("bootstrap" if round_ % 2 else "empty")
        names = {n["name"] for n in fresh(url, tok, "GET", "/network/v2.0/networks").json()["networks"]}
        assert f"r{round_}" not in names
    assert cpu_seconds(extra) - before > 0.05, "the extra API process served nothing"
    missing = fresh(url, tok, "POST", "/_pocketstack/snapshots/nothing/restore")
    assert missing.status_code == 404 and "nothing" in missing.json()["error"]["message"]
    # Workers started again on the new broker take builds and calls from both processes.
    flavor = fresh(url, tok, "POST", "/compute/v2.1/flavors", json={"flavor": {
        "name": "after", "ram": 64, "vcpus": 1, "disk": 0}}).json()["flavor"]
    image = fresh(url, tok, "POST", "/image/v2/images", json={
        "name": "after", "disk_format": "raw", "container_format": "bare"}).json()
    assert fresh(url, tok, "PUT", f"/image/v2/images/{image['id']}/file", content=b"x" * 1024,
                 headers={"Content-Type": "application/octet-stream"}).status_code == 204
    servers = []
    for i in range(4):
        response = fresh(url, tok, "POST", "/compute/v2.1/servers", json={"server": {
            "name": f"after{i}", "imageRef": image["id"], "flavorRef": flavor["id"], "networks": "none"}},
                         headers={"OpenStack-API-Version": "compute 2.37"})
        assert response.status_code == 202, response.text
        servers.append(response.json()["server"]["id"])
    eventually(lambda: {fresh(url, tok, "GET", f"/compute/v2.1/servers/{s}").json()["server"]["status"]
                        for s in servers} == {"ACTIVE"}, timeout=60)
    for server in servers:
        response = fresh(url, tok, "POST", f"/compute/v2.1/servers/{server}/action",
                         json={"os-getConsoleOutput": {"length": 5}})
        assert response.status_code == 200, response.text


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_api_workers_end_with_the_primary(tmp_path, sig):
    with running_cloud(tmp_path, "--api-workers", "3") as proc:
        workers = eventually(lambda: api_workers(proc) if len(api_workers(proc)) == 2 else None, timeout=30)
        proc.process.send_signal(sig)
        proc.process.wait(timeout=30)

        def gone():
            return not any(Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text()
                           .rsplit(")", 1)[1].split()[0] for pid in workers)
        eventually(gone, timeout=30)
        with pytest.raises(httpx.TransportError):
            httpx.get(proc.url + "/", timeout=2)
