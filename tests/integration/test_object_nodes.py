"""Scaled out object storage: three real ``pocketstack object-server`` processes behind
a real ``pocketstack up`` proxy whose object ring points at them over loopback HTTP."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from pocketstack.object.ring import Ring, RingBuilder

from cloudproc import ADMIN_PASSWORD, BIN, free_port, running_cloud

NODES = 3
SUFFIX = "0123456789abcdef"


class Node:
    def __init__(self, root: Path, swift_dir: Path):
        self.port = free_port()
        self.devices = root / "devices"
        (self.devices / "sdb").mkdir(parents=True)
        self.log = root / "node.log"
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                [str(BIN / "pocketstack"), "object-server", "--devices", str(self.devices), "--port",
                 str(self.port), "--swift-dir", str(swift_dir)], stdout=log, stderr=subprocess.STDOUT,
                env=dict(os.environ, POCKETSTACK_OBJECT_BACKGROUND_INTERVAL="0.2"))
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                httpx.head(self.url + "/sdb/0/a/c/o", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError(f"object-server did not start in {timeout}s:\n{self.log.read_text()}")

    def data_files(self) -> list[Path]:
        return list((self.devices / "sdb" / "objects").rglob("*.data"))

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """``(proxy, nodes, object ring, storage url, token)``."""
    tmp = tmp_path_factory.mktemp("nodes")
    swift_dir = tmp / "data" / "object"
    swift_dir.mkdir(parents=True)
    (swift_dir / "hash_path_suffix").write_text(SUFFIX)
    nodes = [Node(tmp / f"node{i}", swift_dir) for i in range(1, NODES + 1)]
    try:
        builder = RingBuilder(4, 3, min_part_hours=0)
        for zone, node in enumerate(nodes, start=1):
            builder.add_dev(region=1, zone=zone, ip="127.0.0.1", port=node.port, device="sdb", weight=100)
        builder.rebalance(seed=1)
        builder.save(swift_dir / "object.builder")
        builder.write_ring(swift_dir / "object.ring.gz")
        for node in nodes:
            node.wait_ready()
        with running_cloud(tmp) as proxy:
            auth = httpx.post(proxy.url + "/identity/v3/auth/tokens", timeout=30, json={"auth": {
                "identity": {"methods": ["password"], "password": {"user": {
                    "name": "admin", "domain": {"id": "default"}, "password": ADMIN_PASSWORD}}},
                "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}})
            assert auth.status_code == 201, auth.text
            project = auth.json()["token"]["project"]["id"]
            storage = f"{proxy.url}/object-store/v1/AUTH_{project}"
            ring = Ring(swift_dir / "object.ring.gz", hash_suffix=SUFFIX)
            yield proxy, nodes, ring, storage, auth.headers["X-Subject-Token"], f"AUTH_{project}"
    finally:
        for node in nodes:
            node.kill()


def _client(token: str) -> httpx.Client:
    return httpx.Client(headers={"X-Auth-Token": token}, timeout=30)


def _primary_nodes(ring: Ring, nodes: list[Node], account: str, container: str, obj: str) -> list[Node]:
    _part, devs = ring.get_nodes(account, container, obj)
    by_port = {n.port: n for n in nodes}
    return [by_port[d["port"]] for d in devs]


def _name_with_replica_on(ring: Ring, nodes: list[Node], account: str, container: str, node: Node,
                          index: int) -> str:
    """An object name whose ``index``-th primary is ``node``."""
    return next(name for name in (f"two-{n}.txt" for n in itertools.count())
                if _primary_nodes(ring, nodes, account, container, name)[index] is node)


def _listing(http: httpx.Client, url: str) -> list[str]:
    return [row["name"] for row in http.get(url, params={"format": "json"}).json()]


def test_object_server_refuses_bad_input(cluster):
    _proxy, nodes, _ring, _storage, _token, _account = cluster
    url = nodes[0].url
    assert httpx.put(url + "/sdb/notanumber/a/c/o", content=b"x", headers={"X-Timestamp": "1"}).status_code == 400
    assert httpx.put(url + "/sdb/1/a/c/o", content=b"x").status_code == 400
    assert httpx.put(url + "/sdb/1/a/c/o", content=b"x", headers={"X-Timestamp": "1",
                                                                    "X-Backend-Metadata": "[1]"}).status_code == 400
    assert httpx.put(url + "/nodisk/1/a/c/o", content=b"x", headers={"X-Timestamp": "1"}).status_code == 507
    assert httpx.delete(url + "/sdb/1/a/c/o", headers={"X-Timestamp": "soon"}).status_code == 400
    assert httpx.get(url + "/sdb/1/a/c/missing").status_code == 404


def test_object_server_audits_its_devices(cluster):
    node = cluster[1][0]
    for each in cluster[1]:  # every replica, so the peers can restore the rotten one
        put = httpx.put(each.url + "/sdb/1/a/c/rot", content=b"good bytes", headers={"X-Timestamp": "1700000000"})
        assert put.status_code == 201
    (data,) = [f for f in node.data_files() if f.is_relative_to(node.devices / "sdb" / "objects" / "1")]
    data.write_bytes(b"rotten bytes")  # same xattrs, wrong md5
    quarantined = node.devices / "sdb" / "quarantined" / "objects"
    deadline = time.monotonic() + 10
    while not (quarantined.is_dir() and list(quarantined.iterdir())) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert list(quarantined.iterdir())
    # The peers' object replicators push a good copy back.
    deadline = time.monotonic() + 30
    while httpx.get(node.url + "/sdb/1/a/c/rot").content != b"good bytes" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert httpx.get(node.url + "/sdb/1/a/c/rot").content == b"good bytes"


def test_large_and_non_ascii_metadata_on_the_nodes(cluster):
    """Up to Swift's limits, whatever the bytes: a UTF-8 Content-Type cannot go to a node
    as a header of its own, and metadata beyond an extended attribute's room is stored
    after the body, which the nodes' auditors leave alone."""
    _proxy, nodes, ring, storage, token, account = cluster
    content_type = ("text/plain; name=\u00e9t\u00e9;x=" + "t" * 6000).encode()
    wide = {"Content-Type": content_type, "Content-Disposition": "attachment; filename=" + "d" * 8000,
            **{f"X-Object-Meta-{i:02d}": "v" * 40 for i in range(90)}}
    with _client(token) as http:
        assert http.put(f"{storage}/wide").status_code == 201
        for name, body in (("small", b"small body"), ("large", os.urandom(300_000))):
            assert http.put(f"{storage}/wide/{name}", content=body, headers=wide).status_code == 201
            got = http.get(f"{storage}/wide/{name}")
            assert got.content == body and {k: got.headers[k] for k in wide if k != "Content-Type"} == \
                {k: v for k, v in wide.items() if k != "Content-Type"}
            assert dict(got.headers.raw)[b"content-type"] == content_type
        assert http.post(f"{storage}/wide/small", headers={"Content-Type": content_type + b"2"}).status_code == 202
        assert dict(http.head(f"{storage}/wide/small").headers.raw)[b"content-type"] == content_type + b"2"
    time.sleep(1)  # several audit passes of the nodes (every 0.2 s)
    for name in ("small", "large"):
        for node in _primary_nodes(ring, nodes, account, "wide", name):
            part = ring.get_part(account, "wide", name)
            assert httpx.head(f"{node.url}/sdb/{part}/{account}/wide/{name}").status_code == 200, (node.url, name)


def test_replicas_over_http_with_failing_nodes(cluster):
    _proxy, nodes, ring, storage, token, account = cluster
    with _client(token) as http:
        assert http.put(f"{storage}/photos").status_code == 201
        body = os.urandom(300_000)

        def chunks():
            for i in range(0, len(body), 65536):
                yield body[i:i + 65536]

        before = [len(n.data_files()) for n in nodes]
        put = http.put(f"{storage}/photos/one.bin", content=chunks(), headers={"X-Object-Meta-Color": "blue"})
        assert put.status_code == 201, put.text
        assert [len(n.data_files()) for n in nodes] == [b + 1 for b in before]
        got = http.get(f"{storage}/photos/one.bin")
        assert got.status_code == 200 and got.content == body and got.headers["X-Object-Meta-Color"] == "blue"
        ranged = http.get(f"{storage}/photos/one.bin", headers={"Range": "bytes=1000-1999"})
        assert ranged.status_code == 206 and ranged.content == body[1000:2000]
        assert http.get(f"{storage}/photos", params={"format": "json"}).json()[0]["bytes"] == len(body)

        # A refused upload (wrong Etag) is broken off: no node keeps anything.
        bad = http.put(f"{storage}/photos/bad.bin", content=b"data", headers={"Etag": "0" * 32})
        assert bad.status_code == 422
        assert http.get(f"{storage}/photos/bad.bin").status_code == 404
        assert [len(n.data_files()) for n in nodes] == [b + 1 for b in before]

        odd = "été/ü 100%?#.txt"
        assert http.put(f"{storage}/photos/{quote(odd)}", content=b"odd").status_code == 201
        assert http.get(f"{storage}/photos/{quote(odd)}").content == b"odd"
        assert http.delete(f"{storage}/photos/{quote(odd)}").status_code == 204

        assert http.post(f"{storage}/photos/one.bin", headers={"X-Object-Meta-Color": "red"}).status_code == 202
        assert http.head(f"{storage}/photos/one.bin").headers["X-Object-Meta-Color"] == "red"

        # The first primary of one.bin dies: reads fall back, writes still reach a quorum (2 of 3).
        first, *others = _primary_nodes(ring, nodes, account, "photos", "one.bin")
        first.kill()
        got = http.get(f"{storage}/photos/one.bin")
        assert got.status_code == 200 and got.content == body
        # Each replica's write carries the listing update of one container replica: whichever
        # replica the dead node was to hold, the container lists the new object.
        written = [_name_with_replica_on(ring, nodes, account, "photos", first, index) for index in range(NODES)]
        for name in written:
            assert http.put(f"{storage}/photos/{name}", content=b"still writable").status_code == 201
            assert http.get(f"{storage}/photos/{name}").content == b"still writable"
        assert _listing(http, f"{storage}/photos") == sorted(["one.bin", *written])
        for name in written:
            assert http.delete(f"{storage}/photos/{name}").status_code == 204
            assert http.get(f"{storage}/photos/{name}").status_code == 404
        assert _listing(http, f"{storage}/photos") == ["one.bin"]

        # Two of three down: no quorum for writes (503), the last copy still serves reads.
        others[0].kill()
        assert http.put(f"{storage}/photos/three.txt", content=b"lost").status_code == 503
        got = http.get(f"{storage}/photos/one.bin")
        assert got.status_code == 200 and got.content == body
