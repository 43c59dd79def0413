"""Account and container databases on storage nodes: three real ``pocketstack
object-server`` processes hold every replica (the account, container and object rings
all point at them), a real ``pocketstack up`` proxy serves the Swift API, and the nodes'
database replicator repairs a node that missed writes while it was down."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from pocketstack.object.ring import Ring, RingBuilder, hash_path

from cloudproc import ADMIN_PASSWORD, BIN, free_port, running_cloud

SUFFIX = "fedcba9876543210"


class Node:
    """A storage node process that can be stopped and started again on the same port and disk."""

    def __init__(self, root: Path, swift_dir: Path):
        self.root = root
        self.swift_dir = swift_dir
        self.port = free_port()
        self.devices = root / "devices"
        (self.devices / "sdb").mkdir(parents=True)
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.root / "node.log", "a") as log:
            self.process = subprocess.Popen(
                [str(BIN / "pocketstack"), "object-server", "--devices", str(self.devices), "--port",
                 str(self.port), "--swift-dir", str(self.swift_dir)], stdout=log, stderr=subprocess.STDOUT,
                env=dict(os.environ, POCKETSTACK_OBJECT_BACKGROUND_INTERVAL="0.3"))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (self.root / "node.log").read_text()
            try:
                httpx.head(self.url + "/sdb/0/a/c/o", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError("object-server did not start:\n" + (self.root / "node.log").read_text())

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def db(self, kind: str, partition: int, name_hash: str, operation: str, **args):
        """An operation on one of this node's database replicas, straight to the node."""
        response = httpx.post(f"{self.url}/sdb/db/{kind}/{partition}/{name_hash}/{operation}",
                              json={"args": args}, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()["result"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """``(nodes, storage url, token, account, swift dir)``; every ring on the three nodes."""
    tmp = tmp_path_factory.mktemp("dbnodes")
    swift_dir = tmp / "data" / "object"
    swift_dir.mkdir(parents=True)
    (swift_dir / "hash_path_suffix").write_text(SUFFIX)
    nodes = [Node(tmp / f"node{i}", swift_dir) for i in (1, 2, 3)]
    for kind in ("account", "container", "object"):
        builder = RingBuilder(4, 3, min_part_hours=0)
        for zone, node in enumerate(nodes, start=1):
            builder.add_dev(region=1, zone=zone, ip="127.0.0.1", port=node.port, device="sdb", weight=100)
        builder.rebalance(seed=1)
        builder.save(swift_dir / f"{kind}.builder")
        builder.write_ring(swift_dir / f"{kind}.ring.gz")
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
                   f"AUTH_{project}", swift_dir)
    finally:
        for node in nodes:
            node.stop()


def _wait_for(check, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


def test_object_server_refuses_bad_database_requests(cluster):
    node = cluster[0][0]
    base = f"{node.url}/sdb/db"
    good_hash = "0" * 32
    assert httpx.post(f"{base}/container/1/{good_hash}/drop_table", json={"args": {}}).status_code == 404
    assert httpx.post(f"{base}/volume/1/{good_hash}/info", json={"args": {}}).status_code == 404
    assert httpx.post(f"{base}/container/1/not-a-hash/info", json={"args": {}}).status_code == 400
    assert httpx.post(f"{base}/container/x/{good_hash}/info", json={"args": {}}).status_code == 400
    assert httpx.post(f"{base}/container/1/{good_hash}/info", content=b"nope").status_code == 400
    assert httpx.post(f"{base}/container/1/{good_hash}/list", json={"args": {"bogus": 1}}).status_code == 400
    assert httpx.post(f"{node.url}/nodisk/db/container/1/{good_hash}/info", json={"args": {}}).status_code == 507
    missing = httpx.post(f"{base}/container/1/{good_hash}/info", json={"args": {}})
    assert missing.status_code == 200 and missing.json() == {"result": None}


def test_databases_live_on_nodes_and_are_repaired_after_a_restart(cluster):
    nodes, storage, token, account, swift_dir = cluster
    container_ring = Ring(swift_dir / "container.ring.gz", hash_suffix=SUFFIX)
    account_ring = Ring(swift_dir / "account.ring.gz", hash_suffix=SUFFIX)
    c_part = container_ring.get_part(account, "docs")
    c_hash = hash_path(account, "docs", suffix=SUFFIX).hex()
    a_part = account_ring.get_part(account)
    a_hash = hash_path(account, suffix=SUFFIX).hex()
    late = nodes[2]
    with httpx.Client(headers={"X-Auth-Token": token}, timeout=30) as http:
        assert http.put(f"{storage}/docs").status_code == 201
        assert http.put(f"{storage}/docs/a", content=b"1").status_code == 201
        assert http.put(f"{storage}/docs/b", content=b"22").status_code == 201
        # Every node holds a replica of the container and the account database.
        for node in nodes:
            assert [r["name"] for r in node.db("container", c_part, c_hash, "list", limit=100)] == ["a", "b"]
            assert [r["name"] for r in node.db("account", a_part, a_hash, "list", limit=100)] == ["docs"]
        assert not list(swift_dir.rglob("*.db"))  # none on the proxy

        # One node is down: writes still reach a quorum; it misses them.
        late.stop()
        assert http.put(f"{storage}/docs/c", content=b"333").status_code == 201
        assert http.put(f"{storage}/docs/d", content=b"4444").status_code == 201
        assert http.delete(f"{storage}/docs/a").status_code == 204
        assert http.post(f"{storage}/docs", headers={"X-Container-Meta-Colour": "green"}).status_code == 204
        assert http.put(f"{storage}/more").status_code == 201
        names = [r["name"] for r in http.get(f"{storage}/docs", params={"format": "json"}).json()]
        assert names == ["b", "c", "d"]

        # Back up: the other nodes' replicators bring its databases up to date.
        late.start()

        def repaired():
            rows = late.db("container", c_part, c_hash, "list", limit=100)
            info = late.db("container", c_part, c_hash, "info")
            containers = late.db("account", a_part, a_hash, "list", limit=100)
            return ([r["name"] for r in rows] == ["b", "c", "d"] and info["object_count"] == 3
                    and info["metadata"].get("X-Container-Meta-Colour", [""])[0] == "green"
                    and [c["name"] for c in containers] == ["docs", "more"]
                    and {c["name"]: c["object_count"] for c in containers}["docs"] == 3)

        assert _wait_for(repaired), late.db("container", c_part, c_hash, "list", limit=100)

        # With the two others down, the repaired node alone serves the listings.
        nodes[0].stop()
        nodes[1].stop()
        listing = http.get(f"{storage}/docs", params={"format": "json"})
        assert listing.status_code == 200
        assert [(r["name"], r["bytes"]) for r in listing.json()] == [("b", 2), ("c", 3), ("d", 4)]
        head = http.head(f"{storage}/docs")
        assert head.headers["X-Container-Object-Count"] == "3"
        assert head.headers["X-Container-Meta-Colour"] == "green"
        assert http.get(f"{storage}").text.split() == ["docs", "more"]
        nodes[0].start()
        nodes[1].start()
