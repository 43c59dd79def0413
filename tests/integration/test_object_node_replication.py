"""Object replication between storage nodes: three real ``pocketstack object-server``
processes hold every object replica, a real ``pocketstack up`` proxy serves the Swift
API, and the nodes' object replicator repairs a node that missed writes while it was
down and restores a replica its auditor quarantined."""

from __future__ import annotations

import json
from urllib.parse import quote

import httpx
import pytest
from test_object_node_databases import Node, _wait_for

from pocketstack.object.ring import Ring, RingBuilder, hash_path

from cloudproc import ADMIN_PASSWORD, running_cloud

SUFFIX = "00112233445566ff"
WIDE = {"Content-Type": "text/plain;x=" + "t" * 6000, "Content-Disposition": "attachment; filename=" + "d" * 6000,
        **{f"X-Object-Meta-{i:02d}": "v" * 40 for i in range(90)}}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """``(nodes, storage url, token, account, object ring)``; the object ring on three nodes."""
    tmp = tmp_path_factory.mktemp("replnodes")
    swift_dir = tmp / "data" / "object"
    swift_dir.mkdir(parents=True)
    (swift_dir / "hash_path_suffix").write_text(SUFFIX)
    nodes = [Node(tmp / f"node{i}", swift_dir) for i in (1, 2, 3)]
    builder = RingBuilder(4, 3, min_part_hours=0)
    for zone, node in enumerate(nodes, start=1):
        builder.add_dev(region=1, zone=zone, ip="127.0.0.1", port=node.port, device="sdb", weight=100)
    builder.rebalance(seed=1)
    builder.save(swift_dir / "object.builder")
    builder.write_ring(swift_dir / "object.ring.gz")
    try:
        for node in nodes:
            node.start()
        with running_cloud(tmp) as proxy:
            auth = httpx.post(proxy.url + "/identity/v3/auth/tokens", timeout=30, json={"auth": {
                "identity": {"methods": ["password"], "password": {"user": {
                    "name": "admin", "domain": {"id": "default"}, "password": ADMIN_PASSWORD}}},
                "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}})
            assert auth.status_code == 201, auth.text
            project = auth.json()["token"]["project"]["id"]
            yield (nodes, f"{proxy.url}/object-store/v1/AUTH_{project}", auth.headers["X-Subject-Token"],
                   f"AUTH_{project}", Ring(swift_dir / "object.ring.gz", hash_suffix=SUFFIX))
    finally:
        for node in nodes:
            node.stop()


def _replica(node: Node, ring: Ring, account: str, container: str, obj: str) -> httpx.Response:
    """GET one object replica straight from a node."""
    part = ring.get_part(account, container, obj)
    return httpx.get(f"{node.url}/sdb/{part}/{quote(account)}/{quote(container)}/{quote(obj)}", timeout=10)


def _hash_dir(node: Node, ring: Ring, account: str, container: str, obj: str):
    name_hash = hash_path(account, container, obj, suffix=SUFFIX).hex()
    part = ring.get_part(account, container, obj)
    return node.devices / "sdb" / "objects" / str(part) / name_hash[-3:] / name_hash


def test_replication_endpoints_refuse_bad_input(cluster):
    node = cluster[0][0]
    good_hash = "0" * 32
    meta = {"X-Backend-Metadata": json.dumps({"ETag": "0" * 32, "Content-Length": "3"})}
    base = f"{node.url}/sdb/replicate"
    assert httpx.get(f"{base}/x").status_code == 400
    assert httpx.get(f"{node.url}/nodisk/replicate/1").status_code == 507
    hashes = httpx.get(f"{base}/1")
    assert hashes.status_code == 200 and isinstance(hashes.json(), dict)
    assert httpx.get(f"{base}/1/zzz-abc").json() == {}
    assert httpx.put(f"{base}/1/not-a-hash/1700000000.00000.data", headers=meta).status_code == 400
    assert httpx.put(f"{base}/1/{good_hash}/1700000000.00000.exe", headers=meta).status_code == 400
    assert httpx.put(f"{base}/1/{good_hash}/soon.data", headers=meta).status_code == 400
    assert httpx.put(f"{base}/1/{good_hash}/1700000000.00000.data", content=b"abc").status_code == 400
    # Data that does not match its ETag is never placed (a rotten copy is not spread).
    rotten = httpx.put(f"{base}/1/{good_hash}/1700000000.00000.data", content=b"abc", headers=meta)
    assert rotten.status_code == 422
    assert good_hash not in json.dumps(httpx.get(f"{base}/1/000").json())


def test_a_node_that_was_down_is_repaired_and_serves_alone(cluster):
    nodes, storage, token, account, ring = cluster
    late = nodes[2]
    with httpx.Client(headers={"X-Auth-Token": token}, timeout=30) as http:
        assert http.put(f"{storage}/docs").status_code == 201
        for name in ("old", "gone", "kept"):
            assert http.put(f"{storage}/docs/{name}", content=f"v1 {name}".encode()).status_code == 201

        # One node is down: writes reach the other two; it misses them.
        late.stop()
        assert http.put(f"{storage}/docs/old", content=b"v2 old").status_code == 201
        assert http.put(f"{storage}/docs/new", content=b"brand new").status_code == 201
        assert http.delete(f"{storage}/docs/gone").status_code == 204
        assert http.post(f"{storage}/docs/kept", headers={"X-Object-Meta-Colour": "blue"}).status_code == 202
        # Metadata too large for an extended attribute travels with the pushed file too.
        assert http.put(f"{storage}/docs/wide", content=b"wide body", headers=WIDE).status_code == 201

        # Back up: its peers' replicators push what it missed.
        late.start()

        def repaired():
            replicas = {n: _replica(late, ring, account, "docs", n) for n in ("old", "new", "gone", "kept", "wide")}
            return (replicas["old"].content == b"v2 old" and replicas["new"].content == b"brand new"
                    and replicas["wide"].content == b"wide body"
                    and replicas["gone"].status_code == 404 and "x-backend-timestamp" in replicas["gone"].headers
                    and replicas["kept"].status_code == 200
                    and json.loads(replicas["kept"].headers["x-backend-metadata"]).get(
                        "X-Object-Meta-Colour") == "blue")

        assert _wait_for(repaired), {n: _replica(late, ring, account, "docs", n).status_code
                                     for n in ("old", "new", "gone", "kept")}

        # With the two others down, the repaired node alone serves everything.
        nodes[0].stop()
        nodes[1].stop()
        try:
            assert http.get(f"{storage}/docs/old").content == b"v2 old"
            assert http.get(f"{storage}/docs/new").content == b"brand new"
            assert http.get(f"{storage}/docs/gone").status_code == 404
            kept = http.get(f"{storage}/docs/kept")
            assert kept.content == b"v1 kept" and kept.headers["X-Object-Meta-Colour"] == "blue"
            wide = http.get(f"{storage}/docs/wide")
            assert wide.content == b"wide body" and {k: wide.headers[k] for k in WIDE} == WIDE
        finally:
            nodes[0].start()
            nodes[1].start()


def test_a_quarantined_replica_is_restored_byte_identical(cluster):
    nodes, storage, token, account, ring = cluster
    body = bytes(range(256)) * 1000
    with httpx.Client(headers={"X-Auth-Token": token}, timeout=30) as http:
        assert http.put(f"{storage}/rot").status_code == 201
        assert http.put(f"{storage}/rot/blob", content=body).status_code == 201
    victim = nodes[0]
    hash_dir = _hash_dir(victim, ring, account, "rot", "blob")
    (data_file,) = hash_dir.glob("*.data")
    original_name = data_file.name
    with open(data_file, "r+b") as fh:  # same length, other bytes: only the MD5 tells
        fh.write(b"rotten")

    def restored():
        files = list(hash_dir.glob("*.data"))
        quarantined = list((victim.devices / "sdb" / "quarantined" / "objects").glob(hash_dir.name + "*"))
        return (quarantined and [f.name for f in files] == [original_name]
                and files[0].read_bytes() == body)

    assert _wait_for(restored), (victim.root / "node.log").read_text()
    assert _replica(victim, ring, account, "rot", "blob").content == body


def test_a_handoff_is_handed_to_the_primaries_and_removed(tmp_path):
    """Four nodes, three replicas: a replica written to the fourth (a handoff) goes to
    the primaries -- newer than what one of them had -- and leaves the handoff."""
    swift_dir = tmp_path / "swift"
    swift_dir.mkdir()
    (swift_dir / "hash_path_suffix").write_text(SUFFIX)
    nodes = [Node(tmp_path / f"node{i}", swift_dir) for i in range(1, 5)]
    builder = RingBuilder(4, 3, min_part_hours=0)
    for zone, node in enumerate(nodes, start=1):
        builder.add_dev(region=1, zone=zone, ip="127.0.0.1", port=node.port, device="sdb", weight=100)
    builder.rebalance(seed=1)
    builder.write_ring(swift_dir / "object.ring.gz")
    ring = Ring(swift_dir / "object.ring.gz", hash_suffix=SUFFIX)
    part = ring.get_part("AUTH_x", "c", "o")
    ports = {dev["port"] for dev in ring.get_part_nodes(part)}
    primaries = [n for n in nodes if n.port in ports]
    (handoff,) = [n for n in nodes if n.port not in ports]
    url = f"/sdb/{part}/AUTH_x/c/o"
    meta = {"X-Backend-Metadata": json.dumps({"Content-Type": "text/plain"})}
    try:
        for node in nodes:
            node.start()
        old = httpx.put(primaries[0].url + url, content=b"old", headers={"X-Timestamp": "1700000000.00000", **meta})
        new = httpx.put(handoff.url + url, content=b"new", headers={"X-Timestamp": "1700000001.00000", **meta})
        assert old.status_code == new.status_code == 201
        part_dir = handoff.devices / "sdb" / "objects" / str(part)

        def handed_over():
            replicas = [httpx.get(n.url + url, timeout=10) for n in primaries]
            return (all(r.content == b"new" and r.headers["x-backend-timestamp"] == "1700000001.00000"
                        for r in replicas) and not part_dir.exists())

        assert _wait_for(handed_over), [httpx.get(n.url + url).content for n in primaries]
    finally:
        for node in nodes:
            node.stop()
