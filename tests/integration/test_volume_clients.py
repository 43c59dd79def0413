"""The real ``openstack`` CLI against a real ``pocketstack up``: volumes, images,
snapshots, backups, types, attaching volumes to servers and a transfer without its
snapshots; data written to a volume survives snapshot → new volume → backup → restore
byte for byte."""

from __future__ import annotations

import os
import time

import httpx
import pytest

from pocketstack.volume.drivers.file import data_extents

from cloudproc import admin_token, running_cloud


def wait_status(proc, kind, name, wanted, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        status = proc.openstack(*kind.split(), "show", name, "-f", "json")["status"]
        if status == wanted:
            return
        assert status not in ("error", "error_deleting") and time.monotonic() < deadline, status
        time.sleep(0.2)


@pytest.fixture(scope="module")
def proc(tmp_path_factory):
    with running_cloud(tmp_path_factory.mktemp("volcli")) as proc:
        yield proc


def volume_file(proc, name):
    volume_id = proc.openstack("volume", "show", name, "-f", "json")["id"]
    return proc.data_dir / "volumes" / f"volume-{volume_id}"


def same_bytes(a, b) -> bool:
    """Byte-for-byte equality of two sparse files, reading only where either holds data."""
    if a.stat().st_size != b.stat().st_size:
        return False
    regions = []
    for path in (a, b):
        fd = os.open(path, os.O_RDONLY)
        try:
            regions += list(data_extents(fd, path.stat().st_size))
        finally:
            os.close(fd)
    with open(a, "rb") as fa, open(b, "rb") as fb:
        for start, length in regions:
            fa.seek(start)
            fb.seek(start)
            if fa.read(length) != fb.read(length):
                return False
    return True


def test_volume_snapshot_clone_keep_data(proc):
    proc.openstack("volume", "create", "--size", "1", "data-vol", "-f", "json")
    wait_status(proc, "volume", "data-vol", "available")
    payload = os.urandom(4096)
    with open(volume_file(proc, "data-vol"), "r+b") as fh:
        fh.seek(1 << 20)
        fh.write(payload)
    listed = proc.openstack("volume", "list", "--long", "-f", "json")
    assert {v["Name"]: v["Status"] for v in listed}["data-vol"] == "available"
    proc.openstack("volume", "snapshot", "create", "--volume", "data-vol", "data-snap", "-f", "json")
    wait_status(proc, "volume snapshot", "data-snap", "available")
    proc.openstack("volume", "create", "--snapshot", "data-snap", "from-snap", "-f", "json")
    wait_status(proc, "volume", "from-snap", "available")
    with open(volume_file(proc, "from-snap"), "rb") as fh:
        fh.seek(1 << 20)
        assert fh.read(4096) == payload
    proc.openstack("volume", "backup", "create", "--name", "data-bak", "from-snap", "-f", "json")
    wait_status(proc, "volume backup", "data-bak", "available")
    proc.openstack("volume", "backup", "restore", "data-bak", "from-bak", "-f", "json")
    wait_status(proc, "volume", "from-bak", "available")
    assert same_bytes(volume_file(proc, "from-bak"), volume_file(proc, "data-vol"))
    proc.openstack("volume", "set", "--size", "2", "from-snap")
    wait_status(proc, "volume", "from-snap", "available")
    assert proc.openstack("volume", "show", "from-snap", "-f", "json")["size"] == 2


def test_volume_from_image_and_type(proc, tmp_path):
    image = tmp_path / "disk.raw"
    image.write_bytes(os.urandom(1 << 20))
    proc.openstack("image", "create", "--disk-format", "raw", "--container-format", "bare",
                   "--file", str(image), "cli-img", "-f", "json")
    proc.openstack("volume", "type", "create", "--property", "multiattach=<is> True", "shared", "-f", "json")
    shown = proc.openstack("volume", "type", "show", "shared", "-f", "json")
    assert shown["properties"] == {"multiattach": "<is> True"}
    proc.openstack("volume", "create", "--image", "cli-img", "--size", "1", "--type", "shared", "img-vol",
                   "-f", "json")
    wait_status(proc, "volume", "img-vol", "available")
    volume = proc.openstack("volume", "show", "img-vol", "-f", "json")
    assert volume["bootable"] in ("true", True) and volume["type"] == "shared"
    with open(volume_file(proc, "img-vol"), "rb") as fh:
        assert fh.read(1 << 20) == image.read_bytes()


def test_server_add_and_remove_volume(proc):
    proc.openstack("flavor", "create", "--vcpus", "1", "--ram", "256", "--disk", "1", "vol-flavor", "-f", "json")
    images = proc.openstack("image", "list", "-f", "json")
    if not images:
        pytest.skip("no image to boot a server from")
    proc.openstack("server", "create", "--flavor", "vol-flavor", "--image", images[0]["ID"], "--nic", "none",
                   "--wait", "vm1", "-f", "json")
    proc.openstack("volume", "create", "--size", "1", "vm-vol", "-f", "json")
    wait_status(proc, "volume", "vm-vol", "available")
    proc.openstack("server", "add", "volume", "vm1", "vm-vol")
    wait_status(proc, "volume", "vm-vol", "in-use")  # the host completes the attach, as Nova's
    volume = proc.openstack("volume", "show", "vm-vol", "-f", "json")
    assert volume["attachments"][0]["device"] == "/dev/vdb"
    again = proc.openstack("server", "add", "volume", "vm1", "vm-vol", check=False)
    assert again.returncode != 0
    proc.openstack("server", "remove", "volume", "vm1", "vm-vol")
    wait_status(proc, "volume", "vm-vol", "available")
    proc.openstack("volume", "delete", "vm-vol")


def test_server_boot_from_volume(proc, tmp_path):
    """``server create --boot-from-volume`` makes a root volume from the image (Nova's
    default delete_on_termination=false: it outlives the server, detached); a
    ``--block-device ...,delete_on_termination=true`` root volume goes with its server;
    ``server create --volume`` boots an existing volume and leaves it when deleted."""
    image = tmp_path / "root.raw"
    image.write_bytes(os.urandom(1 << 16))
    image_id = proc.openstack("image", "create", "--disk-format", "raw", "--container-format", "bare",
                              "--file", str(image), "bfv-img", "-f", "json")["id"]
    proc.openstack("flavor", "create", "--vcpus", "1", "--ram", "256", "--disk", "1", "bfv-flavor", "-f", "json")
    server = proc.openstack("server", "create", "--flavor", "bfv-flavor", "--image", "bfv-img",
                            "--boot-from-volume", "1", "--nic", "none", "--wait", "bfv-vm", "-f", "json")
    assert server["status"] == "ACTIVE"
    shown = proc.openstack("server", "show", "bfv-vm", "-f", "json")
    assert not shown["image"] or "volume" in str(shown["image"]).lower()
    [root] = shown["volumes_attached"]
    root_id = root["id"]
    assert root["delete_on_termination"] is False
    volume = proc.openstack("volume", "show", root_id, "-f", "json")
    assert volume["status"] == "in-use" and volume["size"] == 1
    assert volume["attachments"][0]["server_id"] == shown["id"]
    assert volume["attachments"][0]["device"] == "/dev/vda"
    with open(proc.data_dir / "volumes" / f"volume-{root_id}", "rb") as fh:
        assert fh.read(1 << 16) == image.read_bytes()
    proc.openstack("server", "delete", "--wait", "bfv-vm")
    wait_status(proc, "volume", root_id, "available")
    assert proc.openstack("volume", "show", root_id, "-f", "json")["attachments"] == []
    proc.openstack("volume", "delete", root_id)

    proc.openstack("server", "create", "--flavor", "bfv-flavor", "--nic", "none", "--wait", "--block-device",
                   f"source_type=image,uuid={image_id},destination_type=volume,volume_size=1,boot_index=0,"
                   "delete_on_termination=true", "dot-vm", "-f", "json")
    [root] = proc.openstack("server", "show", "dot-vm", "-f", "json")["volumes_attached"]
    assert root["delete_on_termination"] is True
    assert proc.openstack("volume", "show", root["id"], "-f", "json")["status"] == "in-use"
    proc.openstack("server", "delete", "--wait", "dot-vm")
    deadline = time.monotonic() + 60
    while root["id"] in {v["ID"] for v in proc.openstack("volume", "list", "-f", "json")}:
        assert time.monotonic() < deadline, "the root volume was not deleted with its server"
        time.sleep(0.2)

    proc.openstack("volume", "create", "--image", "bfv-img", "--size", "1", "--bootable", "boot-vol", "-f", "json")
    wait_status(proc, "volume", "boot-vol", "available")
    proc.openstack("server", "create", "--flavor", "bfv-flavor", "--volume", "boot-vol", "--nic", "none",
                   "--wait", "vol-vm", "-f", "json")
    shown = proc.openstack("server", "show", "vol-vm", "-f", "json")
    boot_vol = proc.openstack("volume", "show", "boot-vol", "-f", "json")
    assert [v["id"] for v in shown["volumes_attached"]] == [boot_vol["id"]]
    assert boot_vol["status"] == "in-use"
    proc.openstack("server", "delete", "--wait", "vol-vm")
    wait_status(proc, "volume", "boot-vol", "available")
    assert proc.openstack("volume", "show", "boot-vol", "-f", "json")["attachments"] == []
    proc.openstack("volume", "delete", "boot-vol")


def test_transfer_request_without_snapshots(proc):
    """``openstack volume transfer request create --no-snapshots`` at 3.55, which
    cinderclient sends to ``/volume-transfers``: one CLI call, the rest through the API."""
    token, project = admin_token(proc.url)
    api = httpx.Client(base_url=f"{proc.url}/volume/v3/{project}", timeout=30,
                       headers={"X-Auth-Token": token, "OpenStack-API-Version": "volume 3.57"})
    volume = api.post("/volumes", json={"volume": {"size": 1, "name": "xfer-vol"}}).json()["volume"]
    deadline = time.monotonic() + 60
    while api.get(f"/volumes/{volume['id']}").json()["volume"]["status"] != "available":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    made = proc.openstack("--os-volume-api-version", "3.55", "volume", "transfer", "request", "create",
                          "--no-snapshots", "--name", "xfer", volume["id"], "-f", "json")
    assert made["volume_id"] == volume["id"] and made["name"] == "xfer" and made["auth_key"]
    shown = api.get(f"/volume-transfers/{made['id']}").json()["transfer"]
    assert shown["no_snapshots"] is True and shown["source_project_id"] == project
    assert api.delete(f"/volume-transfers/{made['id']}").status_code == 202
