"""``pocketstack up --seed``: a real server process seeds itself before it listens; the
real clients (openstacksdk, the ``openstack`` CLI) find what the file describes;
``pocketstack seed`` against the running cloud finds nothing left to do; a bad file, or
one the cloud refuses, stops ``up`` with a non-zero exit and the entry's path."""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from cloudproc import BIN, free_port, running_cloud

DOCS = Path(__file__).resolve().parents[2] / "docs"
PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDm4xNnqjCXTJ5pH86fD6SmkR7mLMr2PQ9t7UhvaVkmD ci@test"


def _example(root: Path) -> Path:
    """docs/seed-example.yaml with the files it names: every kind of entry, as documented."""
    (root / "images").mkdir()
    if shutil.which("qemu-img"):
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(root / "images" / "cirros.img"), "16M"],
                       check=True)
        text = (DOCS / "seed-example.yaml").read_text()
    else:  # a volume from a qcow2 image needs qemu-img (docs/volume.md)
        (root / "images" / "cirros.img").write_bytes(b"\0" * 65536)
        text = (DOCS / "seed-example.yaml").read_text().replace("disk_format: qcow2", "disk_format: raw")
    (root / "keys").mkdir()
    (root / "keys" / "ci.pub").write_text(PUBLIC_KEY + "\n")
    (root / "assets").mkdir()
    (root / "assets" / "logo.png").write_bytes(b"\x89PNG logo")
    (root / "cloud.yaml").write_text(text)
    return root / "cloud.yaml"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    root = tmp_path_factory.mktemp("seed-cli")
    with running_cloud(root, "--seed", str(_example(root))) as proc:
        yield root, proc


def test_openstacksdk_lists_what_up_seeded(seeded):
    import openstack.config
    import openstack.connection

    root, proc = seeded
    assert "seeded from" in proc.log() and "0 differs" in proc.log()
    config = openstack.config.OpenStackConfig(config_files=[str(proc.clouds_file)])
    conn = openstack.connection.Connection(config=config.get_one("pocketstack"))
    try:
        shop = conn.identity.find_project("shop")
        assert conn.identity.find_user("shop-ci").default_project_id == shop.id
        assert conn.compute.find_flavor("m1.small").ram == 2048
        assert conn.image.find_image("cirros").visibility == "public"
        network = conn.network.find_network("shop-net")
        assert network.project_id == shop.id and network.subnet_ids
        assert conn.network.find_router("shop-router").external_gateway_info["network_id"] == \
            conn.network.find_network("public").id
        assert {r["port_range_min"] for r in conn.network.find_security_group("web", project_id=shop.id)
                .security_group_rules if r["direction"] == "ingress"} == {443, 22, None}
        assert {k.name for k in conn.compute.keypairs()} == {"generated", "inline"}
    finally:
        conn.close()
    user = config.get_one("pocketstack", auth={"username": "shop-ci", "password": "shop-ci-secret",
                                               "project_name": "shop"})
    conn = openstack.connection.Connection(config=user)
    try:
        assert [k.name for k in conn.compute.keypairs()] == ["ci-key"]
        assert [v.status for v in conn.block_storage.volumes(name="shop-root")] == ["available"]
        assert [o.name for o in conn.object_store.objects("assets")] == ["images/logo.png", "index.html"]
    finally:
        conn.close()
    assert (root / "keys" / "generated").read_text().startswith("-----BEGIN OPENSSH PRIVATE KEY-----")


def test_seed_command_against_the_running_cloud_changes_nothing(seeded):
    root, proc = seeded
    result = subprocess.run([str(BIN / "pocketstack"), "seed", str(root / "cloud.yaml"), "--cloud", "pocketstack",
                             "--clouds-file", str(proc.clouds_file)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "0 created, 0 updated" in result.stdout and "0 differs" in result.stdout
    listed = proc.openstack("router", "list", "-f", "json")
    assert [r["Name"] for r in listed] == ["shop-router"]


def _up(tmp_path, seed: str) -> subprocess.CompletedProcess:
    (tmp_path / "bad.yaml").write_text(textwrap.dedent(seed))
    return subprocess.run([str(BIN / "pocketstack"), "--data-dir", str(tmp_path / "data"), "up",
                           "--port", str(free_port()), "--clouds-file", str(tmp_path / "clouds.yaml"),
                           "--seed", str(tmp_path / "bad.yaml")],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "POCKETSTACK_BCRYPT_ROUNDS": "4",
                               "POCKETSTACK_METADATA_LISTEN_PORT": str(free_port())})


def test_up_refuses_a_bad_seed_file_before_starting(tmp_path):
    result = _up(tmp_path, "networks:\n  - name: n\n    subnets: [{name: s, cidr: 10.0.0.0/33}]\n")
    assert result.returncode == 2
    assert "networks[0].subnets[0].cidr (line 3): '10.0.0.0/33' is not a valid CIDR" in result.stderr
    assert not (tmp_path / "data").exists()


def test_up_refuses_to_serve_a_half_seeded_cloud(tmp_path):
    result = _up(tmp_path, "flavors:\n  - {name: ok, vcpus: 1, ram: 64}\n  - {name: bad, vcpus: 1, ram: 64, "
                           "id: 'a/b'}\n")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "flavors[1] (line 3): POST /compute/v2.1/flavors -> 400" in result.stderr
    assert "not starting a half-seeded cloud" in result.stderr
