"""The storage layer on real directories: quorum writes, handoffs, replication of
objects and databases, the auditor's quarantine, rebalance, and exact counts under
concurrent writes."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from pocketstack.common.errors import ServiceUnavailable
from pocketstack.object import diskfile, timestamps
from pocketstack.object.auditor import Auditor
from pocketstack.object.brokers import AccountBroker, ContainerBroker, db_path
from pocketstack.object.dbreplicator import DbReplicator
from pocketstack.object.layout import Cluster, Location
from pocketstack.object.objreplicator import ObjectReplicator
from pocketstack.object.replicator import Replicator
from pocketstack.object.ring import RingBuilder
from pocketstack.object.rings import ensure_cluster
from pocketstack.object.store import ObjectStore

ACCOUNT = "AUTH_test"


@pytest.fixture
def store(tmp_path):
    suffix = ensure_cluster(tmp_path, devices=4, replicas=3, part_power=4, port=6200)
    with ThreadPoolExecutor(16) as pool:
        yield ObjectStore(Cluster(tmp_path, suffix), pool)


async def _chunks(data: bytes):
    for i in range(0, len(data), 1000):
        yield data[i:i + 1000]


def put(store, obj, data=b"payload", container="c"):
    return asyncio.run(store.put_object(ACCOUNT, container, obj, _chunks(data), {"Content-Type": "x/y"},
                                        timestamps.now()))


def replicas(store, obj, container="c"):
    """Devices holding a readable copy of ``obj`` among its primaries."""
    return [loc.device.name for loc in store.cluster.primaries("object", ACCOUNT, container, obj)
            if diskfile.read_state(loc).exists]


def offline(store, device_name):
    """Unmount a device: its directory leaves the devices dir."""
    path = store.cluster.devices_dir / device_name
    away = store.cluster.root / "unmounted"
    away.mkdir(exist_ok=True)
    os.rename(path, away / device_name)
    return path


def online(path):
    os.rename(path.parent.parent / "unmounted" / path.name, path)


def test_writes_reach_every_replica_durably(store):
    store.put_container(ACCOUNT, "c", {}, timestamps.now())
    etag, size = put(store, "o", b"x" * 5000)
    assert size == 5000 and len(replicas(store, "o")) == 3
    _broker, info = store.container(ACCOUNT, "c")
    assert info["object_count"] == 1 and info["bytes_used"] == 5000


def test_quorum_handoff_and_replication(store):
    store.put_container(ACCOUNT, "c", {}, timestamps.now())
    primaries = [loc.device.name for loc in store.cluster.primaries("object", ACCOUNT, "c", "o")]
    down = offline(store, primaries[0])
    put(store, "o", b"while one disk is away")
    # The fourth device stood in for the missing primary.
    spare = {d.name for d in store.cluster.local_devices()} - set(primaries)
    assert all(diskfile.read_state(loc).exists for loc in store.cluster.read_candidates("object", ACCOUNT, "c", "o"))
    assert len(spare) == 1
    online(down)
    stats = Replicator(store.cluster).run_once()
    assert stats.copied >= 1 and sorted(replicas(store, "o")) == sorted(primaries)
    # The handoff gave its copy back and dropped it.
    spare_dev = store.cluster.devices_dir / spare.pop()
    assert not any(p.name.endswith(".data") for p in (spare_dev / "objects").rglob("*"))


def test_no_quorum_is_a_503(store):
    store.put_container(ACCOUNT, "c", {}, timestamps.now())
    downs = [offline(store, name) for name in ("d1", "d2", "d3")]
    try:
        with pytest.raises(ServiceUnavailable):
            put(store, "o")
    finally:
        for path in downs:
            online(path)


def listed(location) -> list[str]:
    """The object names one container replica lists."""
    return [row["name"] for row in ContainerBroker(db_path(location.directory)).list(limit=100)]


def test_a_failed_replica_write_still_reaches_every_container_replica(store):
    """Each object replica's write carries the listing update of one container replica;
    when that write fails but a quorum succeeds, the container replica it was paired with
    is updated all the same (Swift hands it to the node standing in for the failed one),
    so a listing shows the object whichever container replica it is read from."""
    store.put_container(ACCOUNT, "c", {}, timestamps.now())
    for index in range(3):
        obj = f"o{index}"
        failing = store.cluster.primaries("object", ACCOUNT, "c", obj)[index]
        tmp = diskfile.tmp_dir(failing.device)
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.write_bytes(b"")  # a disk that refuses every new file
        try:
            put(store, obj)
        finally:
            tmp.unlink()
        assert failing.device.name not in replicas(store, obj) and len(replicas(store, obj)) == 2
    for location in store.cluster.primaries("container", ACCOUNT, "c"):
        assert listed(location) == ["o0", "o1", "o2"], location.device.name


def test_replication_merges_database_replicas_that_differ(store):
    """A container replica that missed a change (a listing update, a metadata update) is
    brought up to date by the next pass, as Swift's container replicator merges rows --
    though every replica has the same database file name; replicas alike are left alone."""
    store.put_container(ACCOUNT, "c", {}, timestamps.now())
    stale, *others = store.cluster.primaries("container", ACCOUNT, "c")
    for location in others:
        broker = ContainerBroker(db_path(location.directory))
        broker.put_object("missed", timestamps.now(), 4, "x/y", "etag", False)
        broker.update_metadata({"X-Container-Meta-K": "v"}, timestamps.now())
    assert Replicator(store.cluster).run_once().merged > 0
    assert listed(stale) == ["missed"]
    info = ContainerBroker(db_path(stale.directory)).info()
    assert info["object_count"] == 1 and info["metadata"]["X-Container-Meta-K"][0] == "v"
    assert Replicator(store.cluster).run_once().merged == 0


def test_tombstone_wins_over_stale_replica(store):
    store.put_container(ACCOUNT, "c", {}, timestamps.now())
    put(store, "o")
    primaries = [loc.device.name for loc in store.cluster.primaries("object", ACCOUNT, "c", "o")]
    down = offline(store, primaries[0])
    state = store.object_state(ACCOUNT, "c", "o")
    ts = timestamps.now()
    store.write_marker(ACCOUNT, "c", "o", ts, ".ts", {"X-Timestamp": ts})
    online(down)
    assert store.object_state(ACCOUNT, "c", "o").deleted
    Replicator(store.cluster).run_once()
    for loc in store.cluster.primaries("object", ACCOUNT, "c", "o"):
        assert diskfile.read_state(loc).deleted
    assert state.exists


def test_auditor_quarantines_and_replicator_restores(store, caplog):
    store.put_container(ACCOUNT, "c", {}, timestamps.now())
    data = b"precious bytes" * 100
    put(store, "o", data)
    victim = store.cluster.primaries("object", ACCOUNT, "c", "o")[1]
    data_path = diskfile.read_state(victim).data_path
    with open(data_path, "r+b") as fh:
        fh.write(b"ROT")
    with caplog.at_level(logging.ERROR, logger="pocketstack.object.auditor"):
        stats = Auditor(store.cluster).run_once()
    assert stats.quarantined == 1
    assert "failed audit and was quarantined" in caplog.text
    assert (victim.device / "quarantined" / "objects" / victim.name_hash).is_dir()
    assert not diskfile.read_state(victim).exists
    Replicator(store.cluster).run_once()
    restored = diskfile.read_state(victim)
    assert restored.exists and restored.data_path.read_bytes() == data
    assert Auditor(store.cluster).run_once().quarantined == 0


def test_wiped_device_is_rebuilt(store):
    store.put_container(ACCOUNT, "c", {"X-Container-Meta-K": "v"}, timestamps.now())
    for i in range(20):
        put(store, f"o{i}")
    wiped = store.cluster.devices_dir / "d1"
    shutil.rmtree(wiped)
    wiped.mkdir()
    Replicator(store.cluster).run_once()
    for i in range(20):
        assert len(replicas(store, f"o{i}")) == 3
    # Copies were staged inside each device, never next to the devices.
    assert sorted(p.name for p in store.cluster.devices_dir.iterdir()) == ["d1", "d2", "d3", "d4"]
    for loc in store.cluster.primaries("container", ACCOUNT, "c"):
        info = ContainerBroker(db_path(loc.directory)).info()
        assert info["object_count"] == 20 and info["metadata"]["X-Container-Meta-K"][0] == "v"


def test_rebalance_moves_data_to_new_primaries(store, tmp_path):
    store.put_container(ACCOUNT, "c", {}, timestamps.now())
    for i in range(30):
        put(store, f"o{i}")
    for kind in ("account", "container", "object"):
        builder = RingBuilder.load(tmp_path / f"{kind}.builder")
        builder.remove_dev(3)
        builder.pretend_min_part_hours_passed()
        builder.rebalance(seed=2)
        builder.save(tmp_path / f"{kind}.builder")
        builder.write_ring(tmp_path / f"{kind}.ring.gz")
    cluster = Cluster(tmp_path, store.cluster.hash_suffix)
    moved = ObjectStore(cluster, store.pool)
    Replicator(cluster).run_once()
    for i in range(30):
        assert len(replicas(moved, f"o{i}")) == 3
        assert all(loc.device.name != "d4" for loc in cluster.primaries("object", ACCOUNT, "c", f"o{i}"))
    assert not any(p.suffix == ".data" for p in (tmp_path / "devices" / "d4").rglob("*"))
    _broker, info = moved.container(ACCOUNT, "c")
    assert info["object_count"] == 30


def test_concurrent_writes_keep_exact_counts(store):
    store.put_container(ACCOUNT, "c", {}, timestamps.now())

    async def many():
        await asyncio.gather(*(store.put_object(ACCOUNT, "c", f"o{i}", _chunks(b"x" * i), {}, timestamps.now())
                               for i in range(60)))
        # Overwrites of the same names must not double count.
        await asyncio.gather(*(store.put_object(ACCOUNT, "c", f"o{i}", _chunks(b"y" * i), {}, timestamps.now())
                               for i in range(0, 60, 2)))

    asyncio.run(many())
    for loc in store.cluster.primaries("container", ACCOUNT, "c"):
        info = ContainerBroker(db_path(loc.directory)).info()
        assert info["object_count"] == 60 and info["bytes_used"] == sum(range(60))
    _broker, account = store.account(ACCOUNT)
    assert account["object_count"] == 60 and account["bytes_used"] == sum(range(60))


def test_dispersion_report_sees_missing_copies(store):
    from pocketstack.object.dispersion import report

    store.put_container(ACCOUNT, "c", {}, timestamps.now())
    for i in range(10):
        put(store, f"o{i}")
    assert report(store.cluster).objects.percent == 100.0
    primary = store.cluster.primaries("object", ACCOUNT, "c", "o0")[0]
    shutil.rmtree(primary.directory)
    damaged = report(store.cluster)
    assert damaged.objects.copies_found == damaged.objects.copies_expected - 1
    assert "missing 1 copy" in damaged.text()
    Replicator(store.cluster).run_once()
    assert report(store.cluster).objects.percent == 100.0


WEEK = 7 * 24 * 3600


def _abandoned_upload(location, age: float):
    """A replica upload cut off by a crash: a temp file never committed nor aborted, ``age`` seconds old."""
    writer = diskfile.ObjectWriter(location)
    writer.write(b"half an upl")
    writer._file.close()
    then = time.time() - age
    os.utime(writer.tmp_path, (then, then))
    return writer.tmp_path


def test_replication_reclaims_partial_uploads_older_than_reclaim_age(store):
    store.put_container(ACCOUNT, "c", {}, timestamps.now())
    old, fresh = (_abandoned_upload(loc, age) for loc, age in
                  zip(store.cluster.primaries("object", ACCOUNT, "c", "o"), (WEEK + 60, WEEK - 60)))
    stats = Replicator(store.cluster, reclaim_age=WEEK).run_once()
    assert stats.reclaimed_tmp == 1
    assert not old.exists() and fresh.exists()


def test_replication_reclaims_tombstones_older_than_reclaim_age(store):
    store.put_container(ACCOUNT, "c", {}, timestamps.now())
    long_ago = time.time() - WEEK - 3600
    for name, deleted_at in (("old", long_ago), ("recent", time.time() - 60)):
        created = timestamps.normalize(deleted_at - 10)
        asyncio.run(store.put_object(ACCOUNT, "c", name, _chunks(b"data"), {"Content-Type": "x/y"}, created))
        ts = timestamps.normalize(deleted_at)
        store.write_marker(ACCOUNT, "c", name, ts, ".ts", {"X-Timestamp": ts})
    # A POST's .meta left alone on a replica once its data was deleted is reclaimed the same way.
    stray = store.cluster.primaries("object", ACCOUNT, "c", "old")[0]
    diskfile.write_marker(stray, timestamps.normalize(long_ago + 1), ".meta", {})
    stats = Replicator(store.cluster, reclaim_age=WEEK).run_once()
    assert stats.reclaimed == 4  # three tombstones, one .meta
    for loc in store.cluster.primaries("object", ACCOUNT, "c", "old"):
        assert not loc.directory.exists()
        assert not loc.directory.parent.exists() or os.listdir(loc.directory.parent)  # no empty suffix left
        assert diskfile.read_state(loc).timestamp == ""
    for loc in store.cluster.primaries("object", ACCOUNT, "c", "recent"):
        assert diskfile.read_state(loc).deleted
    # Replication does not bring the reclaimed tombstone back.
    assert Replicator(store.cluster, reclaim_age=WEEK).run_once().copied == 0


def test_storage_node_replication_reclaims_too(tmp_path):
    """A storage node's object replicator reclaims on its own devices: temp files even
    before it has the object ring, tombstones once it replicates."""
    devices = tmp_path / "devices"
    (devices / "sdb").mkdir(parents=True)
    location = Location(devices / "sdb", 0, "d41d8cd98f00b204e9800998ecf8427e", "object")
    deleted_at = timestamps.normalize(time.time() - WEEK - 60)
    diskfile.write_marker(location, deleted_at, ".ts", {"X-Timestamp": deleted_at})
    leftover = _abandoned_upload(location, WEEK + 60)
    replicator = ObjectReplicator(devices, tmp_path, "suffix", is_mine=lambda dev: True, reclaim_age=WEEK)
    try:
        stats = replicator.run_once()
        assert stats.reclaimed_tmp == 1 and not leftover.exists() and location.directory.exists()
        builder = RingBuilder(1, 1, min_part_hours=0)
        builder.add_dev(region=1, zone=1, ip="127.0.0.1", port=6200, device="sdb", weight=100)
        builder.rebalance(seed=1)
        builder.write_ring(tmp_path / "object.ring.gz")
        stats = replicator.run_once()
        assert stats.reclaimed == 1 and not location.directory.exists()
    finally:
        replicator.close()


def _with_deleted_rows(store) -> None:
    """Container ``c`` lists a live object and two deleted ones, one deleted longer ago
    than the reclaim age; its account lists it and two deleted containers, likewise."""
    long_ago, recently = (timestamps.normalize(time.time() - age) for age in (WEEK + 3600, 60))
    store.put_container(ACCOUNT, "c", {}, long_ago)
    for name, timestamp, deleted in (("live", long_ago, False), ("deleted-long-ago", long_ago, True),
                                     ("deleted-recently", recently, True)):
        store.update_listing(ACCOUNT, "c", name, timestamp, 0 if deleted else 4, "x/y", "etag", deleted)
    for name, deleted_at in (("gone-long-ago", long_ago), ("gone-recently", recently)):
        store.put_container(ACCOUNT, name, {}, timestamps.normalize(float(deleted_at) - 10))
        store.delete_container(ACCOUNT, name, deleted_at)


def _rows(store) -> dict[str, list[list[str]]]:
    """Every row (deleted ones too) of each replica of container ``c`` and of its account."""
    def names(broker_cls, locations):
        return [sorted(row["name"] for row in broker_cls(db_path(loc.directory)).all_rows()) for loc in locations]
    return {"container": names(ContainerBroker, store.cluster.primaries("container", ACCOUNT, "c")),
            "account": names(AccountBroker, store.cluster.primaries("account", ACCOUNT))}


def _without_rows_deleted_long_ago(replicas: int) -> dict[str, list[list[str]]]:
    return {"container": [["deleted-recently", "live"]] * replicas, "account": [["c", "gone-recently"]] * replicas}


def test_replication_reclaims_deleted_database_rows_older_than_reclaim_age(store):
    """Deleted object rows of container databases and deleted container rows of account
    databases are kept so replicas can be merged, and dropped after the reclaim age, as
    Swift's db replicator does; live rows and newer deletions stay."""
    _with_deleted_rows(store)
    stats = Replicator(store.cluster, reclaim_age=WEEK).run_once()
    assert stats.reclaimed_rows == 6  # one row in each of three container and three account replicas
    assert _rows(store) == _without_rows_deleted_long_ago(3)
    _broker, info = store.container(ACCOUNT, "c")
    assert info["object_count"] == 1 and info["bytes_used"] == 4
    assert store.account(ACCOUNT)[1]["container_count"] == 1
    assert Replicator(store.cluster, reclaim_age=WEEK).run_once().reclaimed_rows == 0


def test_storage_node_database_replication_reclaims_deleted_rows(tmp_path):
    """A storage node's database replicator reclaims the same rows on its devices, and a
    container deleted longer ago than that no longer reports itself to its account."""
    suffix = ensure_cluster(tmp_path, devices=1, replicas=1, part_power=1, port=6200)
    with ThreadPoolExecutor(4) as pool:
        store = ObjectStore(Cluster(tmp_path, suffix), pool)
        _with_deleted_rows(store)
        replicator = DbReplicator(tmp_path / "devices", tmp_path, suffix, "127.0.0.1", 6200, reclaim_age=WEEK)
        try:
            assert replicator.run_once().reclaimed_rows == 2
            assert _rows(store) == _without_rows_deleted_long_ago(1)
            assert replicator.run_once().reclaimed_rows == 0
        finally:
            replicator.close()


def test_a_database_being_created_reads_as_missing(store):
    """Between a replica's file appearing and its schema being committed by the writer
    creating it, a concurrent read finds no tables: that is "no database yet", not an error."""
    for location in store.cluster.primaries("container", ACCOUNT, "c"):
        path = db_path(location.directory)
        path.parent.mkdir(parents=True)
        path.touch()  # what sqlite3.connect() leaves before the first transaction
    assert store.container(ACCOUNT, "c") is None
    store.put_container(ACCOUNT, "c", {}, timestamps.now())
    assert store.container(ACCOUNT, "c") is not None
