"""The real python-swiftclient CLI and the openstack CLI against a real ``pocketstack up``."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from cloudproc import ADMIN_PASSWORD, BIN, running_cloud


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    with running_cloud(tmp_path_factory.mktemp("object")) as proc:
        yield proc


def swift(cloud, *args, cwd=None, check=True):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "ST_"))}
    env.update(OS_AUTH_URL=cloud.url + "/identity/v3", OS_USERNAME="admin", OS_PASSWORD=ADMIN_PASSWORD,
               OS_PROJECT_NAME="admin", OS_USER_DOMAIN_NAME="Default", OS_PROJECT_DOMAIN_NAME="Default",
               OS_AUTH_VERSION="3", OS_IDENTITY_API_VERSION="3")
    result = subprocess.run([str(BIN / "swift"), *args], env=env, capture_output=True, text=True, cwd=cwd,
                            timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"swift {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def test_swift_cli_upload_download_list_post_delete(cloud, tmp_path):
    (tmp_path / "hello.txt").write_text("hello swift\n")
    swift(cloud, "upload", "docs", "hello.txt", cwd=tmp_path)
    assert swift(cloud, "list").split() == ["docs"]
    assert swift(cloud, "list", "docs").split() == ["hello.txt"]
    stat = swift(cloud, "stat")
    assert "Containers: 1" in stat and "Objects: 1" in stat and "Bytes: 12" in stat
    swift(cloud, "post", "-m", "color:blue", "docs")
    assert "Meta Color: blue" in swift(cloud, "stat", "docs")
    swift(cloud, "post", "-r", ".r:*", "docs")
    out = tmp_path / "out"
    out.mkdir()
    swift(cloud, "download", "docs", "hello.txt", "-o", "copy.txt", cwd=out)
    assert (out / "copy.txt").read_text() == "hello swift\n"
    swift(cloud, "delete", "docs", "hello.txt")
    assert swift(cloud, "list", "docs").split() == []
    swift(cloud, "delete", "docs")
    assert swift(cloud, "list").split() == []


@pytest.mark.parametrize("mode", ["--use-slo", "--use-dlo"])
def test_swift_cli_segmented_upload(cloud, tmp_path, mode):
    data = os.urandom(2 * 1048576 + 12345)
    (tmp_path / "big.bin").write_bytes(data)
    container = "big" + mode.replace("-", "")
    swift(cloud, "upload", "-S", "1048576", mode, container, "big.bin", cwd=tmp_path)
    assert len(swift(cloud, "list", container + "_segments").split()) == 3
    stat = swift(cloud, "stat", container, "big.bin")
    assert f"Content Length: {len(data)}" in stat
    assert ("X-Static-Large-Object: True" in stat) == (mode == "--use-slo")
    out = tmp_path / "out"
    out.mkdir()
    swift(cloud, "download", container, "big.bin", cwd=out)
    assert (out / "big.bin").read_bytes() == data
    swift(cloud, "delete", container, "big.bin")
    assert swift(cloud, "list", container + "_segments").split() == []


def test_openstack_cli_containers_and_objects(cloud, tmp_path):
    cloud.openstack("container", "create", "osc")
    (tmp_path / "f.txt").write_text("from osc")
    cloud.openstack("object", "create", "--name", "f.txt", "osc", str(tmp_path / "f.txt"))
    listed = cloud.openstack("object", "list", "osc", "-f", "json")
    assert [o["Name"] for o in listed] == ["f.txt"]
    cloud.openstack("object", "save", "--file", str(tmp_path / "saved.txt"), "osc", "f.txt")
    assert (tmp_path / "saved.txt").read_text() == "from osc"
    shown = cloud.openstack("container", "show", "osc", "-f", "json")
    assert str(shown["object_count"]) == "1"
    cloud.openstack("object", "delete", "osc", "f.txt")
    cloud.openstack("container", "delete", "osc")
    assert all(c["Name"] != "osc" for c in cloud.openstack("container", "list", "-f", "json"))



def test_dispersion_and_ring_commands(cloud, tmp_path):
    (tmp_path / "d.txt").write_text("dispersed")
    swift(cloud, "upload", "disp", "d.txt", cwd=tmp_path)
    result = subprocess.run([str(BIN / "pocketstack"), "--data-dir", str(cloud.data_dir), "object", "dispersion",
                             "--json"], capture_output=True, text=True, timeout=60, check=True)
    report = json.loads(result.stdout)
    assert report["object"]["queried"] >= 1 and report["object"]["percent"] == 100.0
    assert report["container"]["percent"] == 100.0
    ring = subprocess.run([str(BIN / "pocketstack"), "ring", str(cloud.data_dir / "object" / "object.builder")],
                          capture_output=True, text=True, timeout=60, check=True)
    assert "3.000000 replicas" in ring.stdout
