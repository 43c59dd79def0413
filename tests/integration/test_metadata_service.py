"""The metadata API of a real ``pocketstack up`` on its own listener, and the scaled-out
``pocketstack metadata`` beside it: a server created with the real ``openstack`` CLI is
read over HTTP with requests signed as the datapath's proxy signs them (the shared
secret ``pocketstack up`` kept in its data directory)."""

from __future__ import annotations

import contextlib
import subprocess

import httpx
import pytest

from pocketstack.metadata import signing
from pocketstack.metadata.secret import FILE_NAME

from cloudproc import BIN, eventually, free_port, running_cloud


@pytest.fixture(scope="module")
def cloud_proc(tmp_path_factory):
    with running_cloud(tmp_path_factory.mktemp("metadata")) as proc:
        yield proc


@pytest.fixture(scope="module")
def server(cloud_proc, tmp_path_factory):
    work = tmp_path_factory.mktemp("metadata-files")
    (work / "disk.raw").write_bytes(b"fake disk")
    (work / "user-data").write_text("#cloud-config\nhostname: from-user-data\n")
    os_ = cloud_proc.openstack
    os_("image", "create", "--file", str(work / "disk.raw"), "--disk-format", "raw", "md-image", "-f", "json")
    os_("flavor", "create", "--vcpus", "1", "--ram", "64", "--disk", "1", "md-flavor", "-f", "json")
    os_("keypair", "create", "--private-key", str(work / "key"), "md-key", "-f", "json")
    created = os_("server", "create", "--image", "md-image", "--flavor", "md-flavor", "--key-name", "md-key",
                  "--user-data", str(work / "user-data"), "--property", "role=db", "--nic", "none", "--wait",
                  "md-vm", "-f", "json")
    assert created["status"] == "ACTIVE"
    return created


def signed(cloud_proc, server, project_id: str | None = None) -> dict[str, str]:
    secret = (cloud_proc.data_dir / FILE_NAME).read_text().strip()
    return signing.headers(secret, server["id"], project_id or server["project_id"])


def test_meta_data_over_http(cloud_proc, server):
    assert httpx.get(cloud_proc.metadata_url + "/").text.endswith("2009-04-04\nlatest")
    r = httpx.get(cloud_proc.metadata_url + "/openstack/latest/meta_data.json", headers=signed(cloud_proc, server))
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["uuid"] == server["id"] and data["name"] == "md-vm" and data["hostname"] == "md-vm.novalocal"
    assert data["meta"] == {"role": "db"} and list(data["public_keys"]) == ["md-key"]
    assert data["project_id"] == server["project_id"]
    r = httpx.get(cloud_proc.metadata_url + "/latest/user-data", headers=signed(cloud_proc, server))
    assert r.text == "#cloud-config\nhostname: from-user-data\n"


def test_unsigned_and_foreign_requests_are_refused(cloud_proc, server):
    url = cloud_proc.metadata_url + "/openstack/latest/meta_data.json"
    headers = signed(cloud_proc, server)
    assert httpx.get(url, headers={**headers, signing.SIGNATURE: "0" * 64}).status_code == 403
    assert httpx.get(url, headers=signed(cloud_proc, server, project_id="another-project")).status_code == 404
    assert httpx.post(url, headers=headers).status_code == 405
    # The cloud's own API port does not serve metadata.
    assert httpx.get(cloud_proc.url + "/openstack/latest/meta_data.json", headers=headers).status_code == 404


def test_scaled_out_metadata_command(cloud_proc, server, tmp_path):
    port = free_port()
    log = tmp_path / "metadata.log"
    with open(log, "w") as out:
        process = subprocess.Popen([str(BIN / "pocketstack"), "--data-dir", str(cloud_proc.data_dir), "metadata",
                                    "--port", str(port)], stdout=out, stderr=subprocess.STDOUT)
    try:
        def answer():
            assert process.poll() is None, log.read_text()
            with contextlib.suppress(httpx.TransportError):
                return httpx.get(f"http://127.0.0.1:{port}/latest/meta-data/hostname",
                                 headers=signed(cloud_proc, server), timeout=2)
        response = eventually(answer, timeout=60)
        assert response.status_code == 200 and response.text == "md-vm.novalocal", response.text
    finally:
        process.terminate()
        process.wait(timeout=20)
