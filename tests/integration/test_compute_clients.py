"""The real ``openstack`` CLI against a real ``pocketstack up`` with three fake hosts:
flavors, key pairs, the server lifecycle, snapshots, quotas and anti-affinity groups."""

from __future__ import annotations

import time

import pytest

from cloudproc import running_cloud


@pytest.fixture(scope="module")
def cloud_proc(tmp_path_factory):
    with running_cloud(tmp_path_factory.mktemp("compute-cli"), "--fake-hosts", "3") as proc:
        yield proc


@pytest.fixture(scope="module")
def image(cloud_proc, tmp_path_factory):
    disk = tmp_path_factory.mktemp("img") / "disk.raw"
    disk.write_bytes(b"fake disk")
    return cloud_proc.openstack("image", "create", "--file", str(disk), "--disk-format", "raw", "--public",
                                "cirros", "-f", "json")["id"]


def test_server_lifecycle(cloud_proc, image, tmp_path):
    os_ = cloud_proc.openstack
    os_("flavor", "create", "--vcpus", "1", "--ram", "256", "--disk", "1", "tiny", "-f", "json")
    small = os_("flavor", "create", "--vcpus", "2", "--ram", "512", "--disk", "1", "small", "-f", "json")
    assert small["vcpus"] == 2 and small["ram"] == 512
    private_key = os_("keypair", "create", "--private-key", str(tmp_path / "key"), "mykey", "-f", "json")
    assert private_key["name"] == "mykey" and (tmp_path / "key").read_text().startswith("-----BEGIN")
    server = os_("server", "create", "--image", "cirros", "--flavor", "tiny", "--key-name", "mykey", "--wait",
                 "vm1", "-f", "json")
    assert server["status"] == "ACTIVE" and server["key_name"] == "mykey"
    listed = os_("server", "list", "--long", "-f", "json")
    row = next(s for s in listed if s["Name"] == "vm1")
    assert row["Status"] == "ACTIVE" and row["Power State"] in (1, "Running") and row["Host"].startswith("compute-")

    os_("server", "stop", "vm1", parse=False)
    wait_status(os_, "vm1", "SHUTOFF")
    os_("server", "start", "vm1", parse=False)
    wait_status(os_, "vm1", "ACTIVE")
    os_("server", "reboot", "--hard", "--wait", "vm1", parse=False)

    os_("server", "resize", "--flavor", "small", "--wait", "vm1", parse=False)
    resized = os_("server", "show", "vm1", "-f", "json")
    assert resized["status"] == "VERIFY_RESIZE" and resized["flavor"]["vcpus"] == 2
    os_("server", "resize", "confirm", "vm1", parse=False)
    wait_status(os_, "vm1", "ACTIVE")

    snapshot = os_("server", "image", "create", "--name", "snap1", "--wait", "vm1", "-f", "json")
    assert snapshot["status"] == "active"
    actions = {e["Action"] for e in os_("server", "event", "list", "vm1", "-f", "json")}
    assert {"create", "stop", "start", "reboot", "resize", "confirmResize", "createImage"} <= actions

    os_("server", "delete", "--wait", "vm1", parse=False)
    assert all(s["Name"] != "vm1" for s in os_("server", "list", "-f", "json"))
    # The demo member cannot create flavors.
    denied = os_("flavor", "create", "--vcpus", "1", "--ram", "1", "--disk", "0", "x",
                 cloud="pocketstack-demo", check=False)
    assert denied.returncode != 0 and "403" in denied.stderr


def test_quota_and_anti_affinity(cloud_proc, image):
    os_ = cloud_proc.openstack
    os_("flavor", "create", "--vcpus", "1", "--ram", "128", "--disk", "1", "micro", "-f", "json")
    os_("quota", "set", "--instances", "3", "admin", parse=False)
    quota = {q["Resource"]: q["Limit"] for q in os_("quota", "show", "admin", "-f", "json")}
    assert quota["instances"] == 3
    group = os_("server", "group", "create", "--policy", "anti-affinity", "spread", "-f", "json")
    assert group["policy"] == "anti-affinity"
    hosts = set()
    for i in range(3):
        server = os_("server", "create", "--image", "cirros", "--flavor", "micro", "--hint",
                     f"group={group['id']}", "--wait", f"g{i}", "-f", "json")
        hosts.add(server["OS-EXT-SRV-ATTR:host"])
    assert hosts == {"compute-1", "compute-2", "compute-3"}
    over = os_("server", "create", "--image", "cirros", "--flavor", "micro", "g3", check=False)
    assert over.returncode != 0 and "Quota exceeded for instances" in over.stderr
    # Usage figures are in hypervisors up to 2.87 (from 2.88 they are Placement's, and the
    # client asks the newest version it knows unless told).
    hypervisor = os_("--os-compute-api-version", "2.87", "hypervisor", "show", "compute-1", "-f", "json")
    assert hypervisor["vcpus"] == 16 and hypervisor["vcpus_used"] == 1
    newest = os_("hypervisor", "show", "compute-1", "-f", "json")
    assert "vcpus" not in newest and newest["state"] == "up"
    services = os_("compute", "service", "list", "--service", "nova-compute", "-f", "json")
    assert sorted(s["Host"] for s in services) == ["compute-1", "compute-2", "compute-3"]
    os_("server", "delete", "--wait", "g0", "g1", "g2", parse=False)
    os_("server", "group", "delete", "spread", parse=False)


def wait_status(os_, name: str, status: str, attempts: int = 100) -> None:
    for _ in range(attempts):
        if os_("server", "show", name, "-f", "json")["status"] == status:
            return
        time.sleep(0.1)
    raise AssertionError(f"{name} never reached {status}")
