"""Instance HA with real guests: two QEMU compute hosts in one cloud process.

A server's guest (a QEMU process booting a boot sector that prints a banner on its serial
console) runs on the first host.  Its compute service stops checking in while the guest
runs: the HA monitor sees the host alive (its QEMU runs) and reports a service failure,
nothing moves.  Then the host is declared failed (``POST /notifications``, as an external
monitor would): the ``qemu-host`` fence driver kills every QEMU process of that host and
confirms none is left, and only then is the server evacuated -- re-created as a QEMU
process on the other host, printing its banner there, never running on both.

In-process (the functional tests' shape, with ``hypervisor = "qemu"``): the first host is
the machine's own name, the second is added as a QEMU host of the same process.  TCG, no
network.  Without QEMU the test skips (on CI it fails).  Run it with /work/notes/heavy.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from pocketstack.cloud import Cloud
from pocketstack.common import config
from pocketstack.compute.drivers.qemu_guest import running_guests
from pocketstack.ha.manager import InstanceHA
from pocketstack.identity.bootstrap import bootstrap

from support import require_tools

TOOLS = {"qemu-system-x86_64": "qemu-system-x86", "qemu-img": "qemu-utils"}
PASSWORD = "ha-secret"
BANNER = b"pocketstack-guest-ok\r\n"
BOOT_CODE = bytes.fromhex("31c08ed8be157cbaf803ac84c07403eeebf8f4ebfd") + BANNER + b"\0"
COMPUTE = {"OpenStack-API-Version": "compute 2.64"}
pytestmark = pytest.mark.timeout(300)


def eventually(check, timeout: float = 60.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.fixture()
def cloud(tmp_path):
    require_tools(TOOLS, "instance HA with real guests")
    settings = config.load(overrides={
        "data_dir": tmp_path, "bcrypt_rounds": 4, "hypervisor": "qemu", "qemu_accel": "tcg",
        "services": "identity,placement,image,network,compute,ha", "roles": "api,scheduler,compute",
        "shutdown_timeout": 2, "sync_power_state_interval": 0}, environ={})
    cloud = Cloud(settings)
    bootstrap(cloud.identity, admin_password=PASSWORD, demo_password=PASSWORD, region=settings.region,
              services=cloud.catalog())
    try:
        with TestClient(cloud.asgi_app()) as client:
            yield cloud, client
    finally:
        cloud.close()
        for pidfile in tmp_path.glob("qemu/*/*/qemu.pid"):  # guests outlive their host by design
            try:
                pid = int(pidfile.read_text())
                if f"guest={pidfile.parent.name}".encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                    os.kill(pid, signal.SIGKILL)
            except (OSError, ValueError):
                pass


def test_a_failed_qemu_host_is_fenced_and_its_guest_recreated_elsewhere(cloud, tmp_path):
    cloud, client = cloud
    token = client.post("/identity/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": PASSWORD}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}).headers["X-Subject-Token"]
    headers = {"X-Auth-Token": token, **COMPUTE}
    compute = cloud.service("compute").manager
    failing, spare = socket.gethostname(), "ha-spare"
    compute.hosts.add_qemu_host(spare)
    spare_node = compute.hosts.by_host(spare)

    raw = tmp_path / "boot.raw"
    raw.write_bytes((BOOT_CODE.ljust(510, b"\0") + b"\x55\xaa").ljust(1 << 20, b"\0"))
    qcow2 = tmp_path / "boot.qcow2"
    subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(raw), str(qcow2)], check=True)
    image = client.post("/image/v2/images", headers=headers, json={
        "name": "boot", "disk_format": "qcow2", "container_format": "bare"}).json()
    assert client.put(f"/image/v2/images/{image['id']}/file", content=qcow2.read_bytes(), headers={
        **headers, "Content-Type": "application/octet-stream"}).status_code == 204
    flavor = client.post("/compute/v2.1/flavors", headers=headers, json={"flavor": {
        "name": "ha-tiny", "vcpus": 1, "ram": 64, "disk": 1}}).json()["flavor"]

    compute.hosts.update_service(spare_node.service_id, disabled=True)  # boot on the failing host
    server = client.post("/compute/v2.1/servers", headers=headers, json={"server": {
        "name": "ha-vm", "imageRef": image["id"], "flavorRef": flavor["id"], "networks": "none"}}).json()["server"]

    def show() -> dict:
        return client.get(f"/compute/v2.1/servers/{server['id']}", headers=headers).json()["server"]

    eventually(lambda: show()["status"] == "ACTIVE", what="the first boot")
    compute.hosts.update_service(spare_node.service_id, disabled=False)
    assert show()["OS-EXT-SRV-ATTR:host"] == failing
    state = cloud.settings.qemu_state_path
    first = running_guests(state(failing))
    assert list(first) == [server["id"]]
    eventually(lambda: BANNER.strip() in (state(failing) / server["id"] / "console.log").read_bytes(),
               what="the guest's banner")

    # The compute service stops checking in; its guest runs on: reported, not evacuated.
    ha = InstanceHA(cloud, dataclasses.replace(cloud.settings, ha_confirm_count=1, ha_fence_attempts=1))
    heartbeat = next(w.heartbeat for w in cloud.service("compute").workers if hasattr(w, "heartbeat"))
    heartbeat.remove_host(failing)
    compute.hosts.liveness.forget()
    ha.tick()
    found = client.get("/instance-ha/v1/notifications", headers=headers).json()["notifications"]
    assert [(n["type"], n["status"]) for n in found] == [("PROCESS", "ignored")]
    assert running_guests(state(failing)) == first and show()["OS-EXT-SRV-ATTR:host"] == failing

    # The host is declared failed: its QEMU is killed (fenced), then the guest is re-created.
    r = client.post("/instance-ha/v1/notifications", headers=headers, json={"notification": {
        "type": "COMPUTE_HOST", "hostname": failing, "generated_time": "2026-12-06T12:00:00",
        "payload": {"event": "STOPPED", "host_status": "UNKNOWN", "cluster_status": "OFFLINE"}}})
    assert r.status_code == 202, r.text
    uuid = r.json()["notification"]["notification_uuid"]

    def finished() -> dict | None:
        ha.tick()
        shown = client.get(f"/instance-ha/v1/notifications/{uuid}", headers={
            **headers, "OpenStack-API-Version": "instance-ha 1.1"}).json()["notification"]
        return shown if shown["status"] not in ("new", "running") else None

    notification = eventually(finished, what="the recovery")
    assert notification["status"] == "finished", notification
    fence = next(t for t in notification["recovery_workflow_details"] if t["name"] == "FenceHostTask")
    assert any("killed 1 QEMU process(es)" in d["message"] for d in fence["progress_details"]), fence
    assert running_guests(state(failing)) == {}
    shown = show()
    assert shown["status"] == "ACTIVE" and shown["OS-EXT-SRV-ATTR:host"] == spare
    assert list(running_guests(state(spare))) == [server["id"]]
    eventually(lambda: BANNER.strip() in (state(spare) / server["id"] / "console.log").read_bytes(),
               what="the banner of the re-created guest")
    client.delete(f"/compute/v2.1/servers/{server['id']}", headers=headers)
    eventually(lambda: not running_guests(state(spare)), what="the delete")
