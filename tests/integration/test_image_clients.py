"""The real ``openstack`` CLI against a real ``pocketstack up``: the image workflow and
interoperable import, plus what only a real server shows: a client vanishing mid-upload
and a server killed mid-upload or mid-staging."""

from __future__ import annotations

import os
import signal
import socket
import time

import httpx
import pytest

from cloudproc import running_cloud


@pytest.fixture(scope="module")
def cloud_proc(tmp_path_factory):
    with running_cloud(tmp_path_factory.mktemp("image-cli")) as proc:
        yield proc


def _token(proc, cloud="pocketstack") -> str:
    return proc.openstack("token", "issue", "-f", "json", cloud=cloud)["id"]


def _start_partial_upload(proc, token: str, image_id: str, sent: int, declared: int) -> socket.socket:
    """PUT image data by hand, stopping after ``sent`` of ``declared`` bytes."""
    host, port = proc.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    sock.sendall((f"PUT /image/v2/images/{image_id}/file HTTP/1.1\r\nHost: {host}\r\n"
                  f"X-Auth-Token: {token}\r\nContent-Type: application/octet-stream\r\n"
                  f"Content-Length: {declared}\r\n\r\n").encode() + b"x" * sent)
    return sock


def _wait_for_status(proc, token, image_id, status, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        current = httpx.get(f"{proc.url}/image/v2/images/{image_id}", headers={"X-Auth-Token": token}).json()
        if current["status"] == status or time.monotonic() > deadline:
            return current["status"]
        time.sleep(0.05)


def test_openstack_cli_image_workflow(cloud_proc, tmp_path):
    os_ = cloud_proc.openstack
    source = tmp_path / "disk.raw"
    source.write_bytes(os.urandom(4 * 1024 * 1024 + 17))
    image = os_("image", "create", "--file", str(source), "--disk-format", "raw", "--container-format", "bare",
                "cli-image", "-f", "json")
    assert image["status"] == "active" and image["size"] == source.stat().st_size
    listed = os_("image", "list", "-f", "json")
    assert {"ID": image["id"], "Name": "cli-image", "Status": "active"} in listed
    shown = os_("image", "show", "cli-image", "-f", "json")
    assert shown["id"] == image["id"] and shown["disk_format"] == "raw" and shown["visibility"] == "shared"

    out = tmp_path / "out.raw"
    os_("image", "save", "--file", str(out), "cli-image", parse=False)
    assert out.read_bytes() == source.read_bytes()

    os_("image", "set", "--property", "os_distro=cirros", "--tag", "cli", "cli-image", parse=False)
    shown = os_("image", "show", image["id"], "-f", "json")
    assert shown["properties"]["os_distro"] == "cirros" and shown["tags"] == ["cli"]

    member = os_("image", "add", "project", image["id"], "demo", "-f", "json")
    assert member["status"] == "pending"
    assert os_("image", "list", "-f", "json", cloud="pocketstack-demo") == []
    os_("image", "set", "--accept", image["id"], cloud="pocketstack-demo", parse=False)
    members = os_("image", "member", "list", image["id"], "-f", "json")
    assert [m["Status"] for m in members] == ["accepted"]
    assert [i["ID"] for i in os_("image", "list", "-f", "json", cloud="pocketstack-demo")] == [image["id"]]
    demo_out = tmp_path / "demo.raw"
    os_("image", "save", "--file", str(demo_out), image["id"], cloud="pocketstack-demo", parse=False)
    assert demo_out.read_bytes() == source.read_bytes()
    denied = os_("image", "delete", image["id"], cloud="pocketstack-demo", check=False)
    assert denied.returncode != 0 and "403" in denied.stderr

    os_("image", "delete", "cli-image", parse=False)
    assert os_("image", "list", "-f", "json") == []
    assert not (cloud_proc.data_dir / "images" / image["id"]).exists()


def test_openstack_cli_metadefs(cloud_proc):
    """``openstack image metadef …`` (openstacksdk's metadef proxy) end to end."""
    os_ = cloud_proc.openstack
    types = [t["Name"] for t in os_("image", "metadef", "resource", "type", "list", "-f", "json")]
    assert "OS::Glance::Image" in types
    ns = os_("image", "metadef", "namespace", "create", "--public", "--protected", "--display-name", "CLI NS",
             "--description", "made by the CLI", "cli-ns", "-f", "json")
    assert ns["namespace"] == "cli-ns" and ns["visibility"] == "public" and ns["protected"] is True
    assert "cli-ns" in [n["namespace"] for n in os_("image", "metadef", "namespace", "list", "-f", "json")]
    os_("image", "metadef", "resource", "type", "association", "create", "cli-ns", "OS::Glance::Image",
        "-f", "json")
    associations = os_("image", "metadef", "resource", "type", "association", "list", "cli-ns", "-f", "json")
    assert [a["Name"] for a in associations] == ["OS::Glance::Image"]
    prop = os_("image", "metadef", "property", "create", "--name", "hw_cpu_cores", "--title", "Cores",
               "--type", "integer", "--schema", '{"minimum": 1}', "cli-ns", "-f", "json")
    assert prop["name"] == "hw_cpu_cores" and prop["minimum"] == 1
    assert [p["name"] for p in os_("image", "metadef", "property", "list", "cli-ns", "-f", "json")] == ["hw_cpu_cores"]
    obj = os_("image", "metadef", "object", "create", "--namespace", "cli-ns", "cli-object", "-f", "json")
    assert obj["name"] == "cli-object"
    assert os_("image", "metadef", "object", "show", "cli-ns", "cli-object", "-f", "json")["name"] == "cli-object"
    shown = os_("image", "metadef", "namespace", "show", "cli-ns", "-f", "json")
    assert shown["display_name"] == "CLI NS" and shown["description"] == "made by the CLI"
    denied = os_("image", "metadef", "namespace", "delete", "cli-ns", check=False)
    assert denied.returncode != 0
    os_("image", "metadef", "namespace", "set", "--unprotected", "cli-ns", parse=False)
    os_("image", "metadef", "namespace", "delete", "cli-ns", parse=False)
    assert "cli-ns" not in [n["namespace"] for n in os_("image", "metadef", "namespace", "list", "-f", "json")]

def test_client_disconnect_kills_upload(cloud_proc):
    token = _token(cloud_proc)
    image = httpx.post(f"{cloud_proc.url}/image/v2/images", headers={"X-Auth-Token": token},
                       json={"name": "dropped"}).json()
    sock = _start_partial_upload(cloud_proc, token, image["id"], sent=200_000, declared=10_000_000)
    assert _wait_for_status(cloud_proc, token, image["id"], "saving") == "saving"
    sock.close()
    assert _wait_for_status(cloud_proc, token, image["id"], "killed") == "killed"
    assert os.listdir(cloud_proc.data_dir / "images" / ".partial") == []
    assert "Traceback" not in cloud_proc.log()


def test_concurrent_uploads_one_wins(cloud_proc):
    token = _token(cloud_proc)
    image = httpx.post(f"{cloud_proc.url}/image/v2/images", headers={"X-Auth-Token": token},
                       json={"name": "raced"}).json()
    first = _start_partial_upload(cloud_proc, token, image["id"], sent=1000, declared=2000)
    assert _wait_for_status(cloud_proc, token, image["id"], "saving") == "saving"
    second = httpx.put(f"{cloud_proc.url}/image/v2/images/{image['id']}/file", content=b"y" * 2000,
                       headers={"X-Auth-Token": token, "Content-Type": "application/octet-stream"})
    assert second.status_code == 409
    first.sendall(b"x" * 1000)
    assert first.recv(1024).startswith(b"HTTP/1.1 204")
    first.close()
    data = httpx.get(f"{cloud_proc.url}/image/v2/images/{image['id']}/file", headers={"X-Auth-Token": token})
    assert data.content == b"x" * 2000


def test_server_killed_mid_upload_recovers(tmp_path):
    with running_cloud(tmp_path) as first:
        token = _token(first)
        image = httpx.post(f"{first.url}/image/v2/images", headers={"X-Auth-Token": token},
                           json={"name": "interrupted"}).json()
        sock = _start_partial_upload(first, token, image["id"], sent=3_000_000, declared=10_000_000)
        assert _wait_for_status(first, token, image["id"], "saving") == "saving"
        deadline = time.monotonic() + 10
        while not os.listdir(first.data_dir / "images" / ".partial") and time.monotonic() < deadline:
            time.sleep(0.05)
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=15)
        sock.close()
        assert os.listdir(first.data_dir / "images" / ".partial")
    with running_cloud(tmp_path) as second:
        token = _token(second)
        assert _wait_for_status(second, token, image["id"], "queued", timeout=0) == "queued"
        assert os.listdir(second.data_dir / "images" / ".partial") == []
        r = httpx.put(f"{second.url}/image/v2/images/{image['id']}/file", content=b"retried",
                      headers={"X-Auth-Token": token, "Content-Type": "application/octet-stream"})
        assert r.status_code == 204
        data = httpx.get(f"{second.url}/image/v2/images/{image['id']}/file", headers={"X-Auth-Token": token})
        assert data.content == b"retried" and data.headers["Content-MD5"]


def test_openstack_cli_import(cloud_proc, tmp_path):
    """``openstack image create --import`` (stage + glance-direct) and the import discovery."""
    os_ = cloud_proc.openstack
    assert os_("image", "import", "info", "-f", "json")["import-methods"] == ["glance-direct", "web-download",
                                                                          "glance-download"]
    source = tmp_path / "import.raw"
    source.write_bytes(os.urandom(2 * 1024 * 1024 + 5))
    image = os_("image", "create", "--import", "--file", str(source), "--disk-format", "raw",
                "--container-format", "bare", "cli-import", "-f", "json")
    assert image["status"] in ("importing", "active")
    token = _token(cloud_proc)
    assert _wait_for_status(cloud_proc, token, image["id"], "active") == "active"
    out = tmp_path / "out.raw"
    os_("image", "save", "--file", str(out), "cli-import", parse=False)
    assert out.read_bytes() == source.read_bytes()
    tasks = os_("image", "task", "list", "-f", "json")
    assert {"api_image_import"} <= {t["Type"] for t in tasks}
    assert "Multi Backend support not enabled" in os_("image", "stores", "list", check=False).stderr


def test_server_killed_mid_staging_recovers(tmp_path):
    """A staging cut short by SIGKILL: after the restart the image is ``queued`` again,
    the partial staged file is gone, and staging and importing then work."""
    with running_cloud(tmp_path) as first:
        token = _token(first)
        image = httpx.post(f"{first.url}/image/v2/images", headers={"X-Auth-Token": token},
                           json={"name": "interrupted-stage", "disk_format": "raw", "container_format": "bare"}).json()
        host, port = first.url.removeprefix("http://").split(":")
        sock = socket.create_connection((host, int(port)))
        sock.sendall((f"PUT /image/v2/images/{image['id']}/stage HTTP/1.1\r\nHost: {host}\r\n"
                      f"X-Auth-Token: {token}\r\nContent-Type: application/octet-stream\r\n"
                      f"Content-Length: 10000000\r\n\r\n").encode() + b"x" * 3_000_000)
        assert _wait_for_status(first, token, image["id"], "uploading") == "uploading"
        partials = first.data_dir / "image-staging" / ".partial"
        deadline = time.monotonic() + 10
        while not os.listdir(partials) and time.monotonic() < deadline:
            time.sleep(0.05)
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=15)
        sock.close()
        assert os.listdir(partials)
    with running_cloud(tmp_path) as second:
        token = _token(second)
        headers = {"X-Auth-Token": token}
        assert _wait_for_status(second, token, image["id"], "queued", timeout=0) == "queued"
        assert os.listdir(second.data_dir / "image-staging" / ".partial") == []
        r = httpx.put(f"{second.url}/image/v2/images/{image['id']}/stage", content=b"restaged",
                      headers={**headers, "Content-Type": "application/octet-stream"})
        assert r.status_code == 204
        r = httpx.post(f"{second.url}/image/v2/images/{image['id']}/import", headers=headers,
                       json={"method": {"name": "glance-direct"}})
        assert r.status_code == 202
        assert _wait_for_status(second, token, image["id"], "active") == "active"
        assert httpx.get(f"{second.url}/image/v2/images/{image['id']}/file", headers=headers).content == b"restaged"
