"""The read side: ring files, partition hashing, primaries, handoffs, reloading."""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
from collections import Counter

import pytest

from pocketstack.object.ring import Ring, RingBuilder, RingData, RingError, hash_path


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def build(tmp_path, part_power: int = 10, replicas: float = 3, regions: int = 1,
          seed: int = 1, name: str = "object") -> tuple[RingBuilder, str]:
    builder = RingBuilder(part_power, replicas, 0)
    for r in range(1, regions + 1):
        for z in range(1, 4):
            for s in range(2):
                for d in range(2):
                    builder.add_dev(region=r, zone=z, ip=f"10.{r}.{z}.{s}", port=6200,
                                    device=f"sd{d}", weight=100)
    builder.rebalance(seed=seed)
    path = str(tmp_path / f"{name}.ring.gz")
    builder.write_ring(path)
    return builder, path


def test_ring_file_round_trip(tmp_path) -> None:
    builder, path = build(tmp_path, replicas=2.5)
    data = RingData.load(path)
    assert [list(r) for r in data.replica2part2dev] == [list(r) for r in builder.replica2part2dev]
    assert data.part_shift == 32 - builder.part_power
    assert data.replicas == 2.5
    assert data.version == builder.version
    assert data.devs[0]["ip"] == "10.1.1.0"
    # header layout: gzip(b"R1NG" + version + JSON length + JSON + rows)
    raw = gzip.decompress(open(path, "rb").read())
    assert raw[:4] == b"R1NG"
    assert struct.unpack_from("!H", raw, 4)[0] == 1


def test_ring_files_are_deterministic(tmp_path) -> None:
    _, first = build(tmp_path, seed=3, name="a")
    _, second = build(tmp_path, seed=3, name="b")
    with open(first, "rb") as a, open(second, "rb") as b:
        assert a.read() == b.read()


def test_bad_ring_file(tmp_path) -> None:
    path = tmp_path / "bad.ring.gz"
    path.write_bytes(gzip.compress(b"not a ring"))
    with pytest.raises(RingError):
        Ring(path)


def test_hash_path_matches_swift_definition() -> None:
    digest = hash_path("AUTH_test", "photos", "cat.jpg", prefix="pre", suffix="suf")
    assert digest == hashlib.md5(b"pre/AUTH_test/photos/cat.jpgsuf").digest()
    assert hash_path("a") == hashlib.md5(b"/a").digest()
    assert hash_path("a", "c") == hashlib.md5(b"/a/c").digest()
    with pytest.raises(ValueError):
        hash_path("a", None, "o")


def test_get_part_is_stable_and_in_range(tmp_path) -> None:
    builder, path = build(tmp_path, part_power=10)
    ring = Ring(path, hash_prefix="p", hash_suffix="s")
    again = Ring(path, hash_prefix="p", hash_suffix="s")
    parts = Counter()
    for i in range(5000):
        part = ring.get_part("AUTH_acct", "cont", f"obj-{i}")
        assert 0 <= part < ring.partition_count == builder.parts
        assert part == again.get_part("AUTH_acct", "cont", f"obj-{i}")
        key = hashlib.md5(f"p/AUTH_acct/cont/obj-{i}s".encode()).digest()
        assert part == struct.unpack(">I", key[:4])[0] >> 22
        parts[part] += 1
    # md5 spreads names evenly: no partition gets a crowd
    assert max(parts.values()) < 20
    account_key = hashlib.md5(b"p/AUTH_acct" + b"s").digest()
    assert ring.get_part("AUTH_acct") == struct.unpack(">I", account_key[:4])[0] >> 22


def test_hash_suffix_changes_placement(tmp_path) -> None:
    _, path = build(tmp_path)
    one, two = Ring(path, hash_suffix="one"), Ring(path, hash_suffix="two")
    differing = sum(one.get_part("a", "c", f"o{i}") != two.get_part("a", "c", f"o{i}")
                    for i in range(200))
    assert differing > 150


def test_get_nodes(tmp_path) -> None:
    builder, path = build(tmp_path)
    ring = Ring(path)
    assert ring.replica_count == 3
    assert ring.replicas == 3.0
    assert ring.part_power == 10
    assert len(ring.devs) == 12
    for i in range(200):
        part, nodes = ring.get_nodes("AUTH_a", "c", f"o{i}")
        assert [n["id"] for n in nodes] == [row[part] for row in builder.replica2part2dev]
        assert [n["index"] for n in nodes] == [0, 1, 2]
        assert len({(n["region"], n["zone"]) for n in nodes}) == 3
        assert {"ip", "port", "device", "weight", "meta"} <= set(nodes[0])
        assert ring.get_part_nodes(part) == nodes


def test_fractional_ring_lookup(tmp_path) -> None:
    _, path = build(tmp_path, replicas=2.5)
    ring = Ring(path)
    assert ring.replica_count == 3  # rows, as Swift counts them
    sizes = Counter(len(ring.get_part_nodes(p)) for p in range(ring.partition_count))
    assert sizes == {3: 512, 2: 512}


def test_handoffs_prefer_unused_failure_domains(tmp_path) -> None:
    _, path = build(tmp_path, regions=2)
    ring = Ring(path)
    for part in range(0, ring.partition_count, 37):
        primaries = ring.get_part_nodes(part)
        handoffs = list(ring.get_more_nodes(part))
        ids = [d["id"] for d in primaries + handoffs]
        # every device exactly once, primaries first
        assert sorted(ids) == sorted(d["id"] for d in ring.devs if d)
        assert [h["handoff_index"] for h in handoffs] == list(range(len(handoffs)))
        used_regions = {d["region"] for d in primaries}
        used_zones = {(d["region"], d["zone"]) for d in primaries}
        # the first handoffs fill the regions, then zones, not yet holding the partition
        expected_new_zones = 6 - len(used_zones)
        first = handoffs[:expected_new_zones]
        zones_seen = set(used_zones)
        for dev in first:
            assert (dev["region"], dev["zone"]) not in zones_seen
            zones_seen.add((dev["region"], dev["zone"]))
        if len(used_regions) == 1:
            assert handoffs[0]["region"] not in used_regions
        # deterministic
        assert [d["id"] for d in ring.get_more_nodes(part)] == [d["id"] for d in handoffs]


def test_reload_when_file_changes(tmp_path) -> None:
    builder, path = build(tmp_path)
    clock = FakeClock()
    ring = Ring(path, reload_time=15, clock=clock)
    version = ring.version
    builder.add_dev(region=1, zone=1, ip="10.1.1.9", port=6200, device="sdb", weight=100)
    builder.rebalance(seed=2)
    builder.write_ring(path)
    assert ring.has_changed()
    # not re-read before reload_time has passed...
    assert len(ring.devs) == 12
    clock.now += 16
    # ...and picked up afterwards, without building a new Ring
    assert len(ring.devs) == 13
    assert ring.version == version + 1
    assert not ring.has_changed()
    part, nodes = ring.get_nodes("a", "c", "o")
    assert [n["id"] for n in nodes] == [row[part] for row in builder.replica2part2dev]


def test_reload_detects_mtime_change(tmp_path) -> None:
    _, path = build(tmp_path)
    ring = Ring(path, reload_time=0)
    stat = os.stat(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    assert ring.has_changed()
    ring.get_part("a")
    assert not ring.has_changed()


def test_broken_update_keeps_serving_old_ring(tmp_path) -> None:
    _, path = build(tmp_path)
    ring = Ring(path, reload_time=0)
    before = ring.get_nodes("a", "c", "o")
    with open(path, "wb") as fh:
        fh.write(b"garbage")
    assert ring.get_nodes("a", "c", "o") == before


def test_corrupt_header_is_a_ring_error(tmp_path) -> None:
    path = tmp_path / "bad.ring.gz"
    path.write_bytes(gzip.compress(b"R1NG" + struct.pack("!HI", 1, 5) + b"{oops"))
    with pytest.raises(RingError):
        RingData.load(path)
    path.write_bytes(gzip.compress(b"R1NG" + struct.pack("!HI", 1, 2) + b"{}"))
    with pytest.raises(RingError):
        RingData.load(path)
