"""``pocketstack up --regions RegionTwo`` with the real clients, served by two processes.

The ``openstack`` CLI and openstacksdk pick a region by name from the one Keystone's
catalog; each region's resources stay in it.  With ``--api-workers 2`` the extra
process reaches each region's own broker (one bridge per region).
"""

from __future__ import annotations

import pytest

from cloudproc import eventually, running_cloud

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def cloud_proc(tmp_path_factory):
    with running_cloud(tmp_path_factory.mktemp("regions"), "--regions", "RegionTwo", "--api-workers", "2") as proc:
        yield proc


def test_openstack_cli_works_per_region(cloud_proc):
    def r2(*args, **kwargs):
        return cloud_proc.openstack("--os-region-name", "RegionTwo", *args, **kwargs)

    net = r2("network", "create", "r2-net", "-f", "json")
    r2("subnet", "create", "--network", "r2-net", "--subnet-range", "10.7.0.0/24", "r2-sub", "-f", "json")
    r2("flavor", "create", "--ram", "64", "--vcpus", "1", "--disk", "0", "r2-flavor", "-f", "json")
    image = cloud_proc.data_dir.parent / "r2.img"
    image.write_bytes(b"\0" * 65536)
    r2("image", "create", "--file", str(image), "--disk-format", "raw", "r2-image", "-f", "json")
    for i in range(3):  # several connections: the kernel spreads them over both processes
        r2("server", "create", "--flavor", "r2-flavor", "--image", "r2-image", "--network", "r2-net", f"r2-vm{i}",
           "-f", "json")
    eventually(lambda: {s["Status"] for s in r2("server", "list", "-f", "json")} == {"ACTIVE"}, timeout=90)
    assert r2("console", "log", "show", "r2-vm0", parse=False).stdout.strip()
    assert [n["ID"] for n in r2("network", "list", "-f", "json")] == [net["id"]]
    assert cloud_proc.openstack("network", "list", "-f", "json") == []
    assert cloud_proc.openstack("server", "list", "-f", "json") == []


def test_openstacksdk_connects_to_a_region_by_name(cloud_proc):
    import openstack.config
    import openstack.connection

    config = openstack.config.OpenStackConfig(config_files=[str(cloud_proc.clouds_file)])
    one = openstack.connection.Connection(config=config.get_one("pocketstack"))
    two = openstack.connection.Connection(config=config.get_one("pocketstack", region_name="RegionTwo"))
    volume = two.block_storage.create_volume(size=1, name="r2-vol")
    eventually(lambda: two.block_storage.get_volume(volume.id).status == "available", timeout=30)
    assert [v.id for v in two.block_storage.volumes()] == [volume.id]
    assert list(one.block_storage.volumes()) == []
    two.object_store.create_container(name="r2-container")
    assert [c.name for c in two.object_store.containers()] == ["r2-container"]
    assert list(one.object_store.containers()) == []
    one.close()
    two.close()


def test_reset_and_snapshots_cover_every_region(cloud_proc):
    """A snapshot holds each region's own database and files; a reset or restore puts them
    all back and starts each region's workers again, whichever process takes it."""
    import io
    import tarfile

    import httpx

    def r2(*args, **kwargs):
        return cloud_proc.openstack("--os-region-name", "RegionTwo", *args, **kwargs)

    token = cloud_proc.openstack("token", "issue", "-f", "json")["id"]

    def tools(method, path, **kwargs):
        with httpx.Client(base_url=cloud_proc.url, headers={"X-Auth-Token": token}, timeout=120) as client:
            return client.request(method, f"/_pocketstack{path}", **kwargs)

    r2("network", "create", "kept", "-f", "json")
    cloud_proc.openstack("network", "create", "kept-one", "-f", "json")
    assert tools("POST", "/snapshots", json={"snapshot": {"name": "both"}}).status_code == 201
    state = tools("GET", "/snapshots/both/file")
    with tarfile.open(fileobj=io.BytesIO(state.content)) as tar:
        names = tar.getnames()
    assert "regions/RegionTwo/manifest.json" in names and "manifest.json" in names
    r2("network", "create", "dropped", "-f", "json")

    assert tools("POST", "/reset").status_code == 200
    assert r2("network", "list", "-f", "json") == [] and r2("server", "list", "-f", "json") == []
    assert cloud_proc.openstack("network", "list", "-f", "json") == []
    assert r2("container", "list", "-f", "json") == []

    restored = tools("POST", "/snapshots/both/restore")
    assert restored.status_code == 200, restored.text
    assert {n["Name"] for n in r2("network", "list", "-f", "json")} >= {"kept", "r2-net"}
    assert "dropped" not in {n["Name"] for n in r2("network", "list", "-f", "json")}
    assert {n["Name"] for n in cloud_proc.openstack("network", "list", "-f", "json")} == {"kept-one"}
    # The region's workers run again, on a fresh broker, for both API processes.
    for i in range(3):
        r2("server", "create", "--flavor", "r2-flavor", "--image", "r2-image", "--network", "r2-net", f"after{i}",
           "-f", "json")
    eventually(lambda: {s["Status"] for s in r2("server", "list", "-f", "json")} == {"ACTIVE"}, timeout=90)
    # A state file for other regions than the cloud serves is refused, naming them.
    single = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(state.content)) as source, tarfile.open(fileobj=single, mode="w") as out:
        for member in source:
            if member.name.startswith("regions/"):
                continue
            data = source.extractfile(member).read() if member.isfile() else b""
            if member.name == "manifest.json":
                data = data.replace(b'"RegionTwo"', b"")
                member.size = len(data)
            out.addfile(member, io.BytesIO(data))
    assert tools("PUT", "/snapshots/single/file", content=single.getvalue()).status_code == 201
    refused = tools("POST", "/snapshots/single/restore")
    assert refused.status_code == 400 and "RegionTwo" in refused.json()["error"]["message"], refused.text
