"""Group commit (``object.batching``) and reused database connections (``object.dbpool``)."""

from __future__ import annotations

import shutil
import threading

import pytest

from pocketstack.object.batching import Batcher
from pocketstack.object.brokers import ContainerBroker
from pocketstack.object.dbpool import ConnectionPool


def test_concurrent_changes_share_batches_and_each_waits_for_its_own():
    batcher = Batcher()
    applied: list[list[int]] = []
    gate = threading.Event()
    first_started = threading.Event()

    def apply(items):
        if not applied and not first_started.is_set():
            first_started.set()
            gate.wait(5)  # the first batch holds the database while the others queue up
        applied.append(list(items))

    returned = []

    def submit(i):
        batcher.run("db", i, apply)
        # By the time run() returns, the batch holding i has been applied.
        assert any(i in batch for batch in applied)
        returned.append(i)

    first = threading.Thread(target=submit, args=(0,))
    first.start()
    assert first_started.wait(5)
    others = [threading.Thread(target=submit, args=(i,)) for i in range(1, 9)]
    for t in others:
        t.start()
    while sum(len(v) for v in batcher._queued.values()) < 8:  # all eight queued behind the first
        threading.Event().wait(0.01)
    gate.set()
    for t in [first, *others]:
        t.join(5)
    assert sorted(returned) == list(range(9))
    assert applied[0] == [0]
    assert sorted(applied[1]) == list(range(1, 9))  # one transaction for everything that waited


def test_a_failed_batch_fails_every_caller_in_it_and_the_next_batch_runs():
    batcher = Batcher()

    def failing(items):
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        batcher.run("db", 1, failing)
    done = []
    batcher.run("db", 2, done.extend)
    assert done == [2]


def test_a_removed_and_recreated_database_gets_a_new_connection(tmp_path):
    pool = ConnectionPool(limit=4)
    directory = tmp_path / "hash"
    directory.mkdir()
    path = directory / "hash.db"
    with pool.connection(path) as conn:
        conn.execute("CREATE TABLE t (x)")
        conn.execute("INSERT INTO t VALUES (1)")
        first = conn
    with pool.connection(path) as conn:
        assert conn is first  # reused
    shutil.rmtree(directory)  # what the replicator does to a drained handoff partition
    directory.mkdir()
    with pool.connection(path) as conn:
        assert conn is not first
        conn.execute("CREATE TABLE t (x)")
        assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 0
    pool.close()


def test_concurrent_object_rows_are_all_counted(tmp_path):
    broker = ContainerBroker(tmp_path / "container.db")
    broker.initialize("0000000001.00000", account="a", container="c")

    def put(i):
        broker.put_object(f"o{i:03d}", f"{1700000000 + i:016.5f}", i, "text/plain", "etag", False)

    threads = [threading.Thread(target=put, args=(i,)) for i in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    info = broker.info()
    assert info["object_count"] == 64 and info["bytes_used"] == sum(range(64))
    assert len(broker.list(limit=100)) == 64


def test_the_pool_stays_within_its_limit_while_connections_are_lent_out(tmp_path):
    pool = ConnectionPool(limit=2)
    paths = [tmp_path / f"{name}.db" for name in "abcd"]
    with pool.connection(paths[0]) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pool.connection(paths[0]):  # a's only idle connection is lent out meanwhile
        for path in paths[1:]:
            with pool.connection(path) as conn:
                conn.execute("CREATE TABLE t (x)")
        assert pool._count == 2
    assert pool._count == 2  # a's came back, the oldest idle one was closed
    pool.close()
