"""tooz coordination: locks exclude across coordinators, membership expires on Redis."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from pocketstack.common.coordination import Coordinator, LockTimeout

from support import require_service


def _urls(tmp_path):
    return {"file": f"file://{tmp_path}/locks", "redis": "redis://127.0.0.1:6379?timeout=2"}


@pytest.fixture(params=["file", "redis"])
def url(request, tmp_path):
    if request.param == "redis":
        require_service("redis")
    return _urls(tmp_path)[request.param]


def test_lock_excludes_other_members(url):
    a, b = Coordinator(url, "a-" + uuid.uuid4().hex), Coordinator(url, "b-" + uuid.uuid4().hex)
    a.start()
    b.start()
    name = "lock-" + uuid.uuid4().hex
    try:
        with a.lock(name):
            with pytest.raises(LockTimeout):
                with b.lock(name, timeout=0.3):
                    pass
        with b.lock(name, timeout=2):
            pass
    finally:
        a.stop()
        b.stop()


def test_lock_serialises_threads(url):
    coordinators = [Coordinator(url, f"t{i}-" + uuid.uuid4().hex) for i in range(4)]
    for c in coordinators:
        c.start()
    name = "counter-" + uuid.uuid4().hex
    inside, overlaps = [0], [0]

    def work(c):
        for _ in range(5):
            with c.lock(name, timeout=10):
                inside[0] += 1
                if inside[0] > 1:
                    overlaps[0] += 1
                time.sleep(0.002)
                inside[0] -= 1

    threads = [threading.Thread(target=work, args=(c,)) for c in coordinators]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for c in coordinators:
        c.stop()
    assert overlaps[0] == 0


def test_membership_join_leave(url):
    group = "group-" + uuid.uuid4().hex
    a, b = Coordinator(url, "a-" + uuid.uuid4().hex), Coordinator(url, "b-" + uuid.uuid4().hex)
    a.start()
    b.start()
    try:
        assert a.members(group) == set()
        a.join(group)
        b.join(group)
        assert a.members(group) == {a.member_id, b.member_id}
        b.leave(group)
        assert a.members(group) == {a.member_id}
    finally:
        a.stop()
        b.stop()


def test_dead_member_expires_on_redis():
    require_service("redis")
    url = "redis://127.0.0.1:6379?timeout=1"
    group = "group-" + uuid.uuid4().hex
    watcher, victim = Coordinator(url, "w-" + uuid.uuid4().hex), Coordinator(url, "v-" + uuid.uuid4().hex)
    watcher.start()
    victim.start()
    victim.join(group)
    assert victim.member_id in watcher.members(group)
    # Simulate a crash: the heartbeat stops and nobody leaves the group (tooz's stop()
    # would leave it cleanly, which is not what a SIGKILL does).
    victim._coordinator.heart.stop()
    victim._coordinator.heart.wait()
    deadline = time.monotonic() + 10
    while victim.member_id in watcher.members(group):
        assert time.monotonic() < deadline, "a dead member never expired"
        time.sleep(0.2)
    watcher.stop()


def test_a_file_url_gets_toozs_file_driver_as_get_coordinator_would(tmp_path):
    """The all-in-one's file:// backend is built without stevedore's entry-point look-up
    (a start-up cost): the same driver, and it excludes a member made through tooz's own
    ``get_coordinator``."""
    from tooz import coordination
    from tooz.drivers.file import FileDriver

    url = _urls(tmp_path)["file"]
    ours = Coordinator(url, "ours-" + uuid.uuid4().hex)
    theirs = coordination.get_coordinator(url, b"theirs")
    assert type(ours._coordinator) is FileDriver is type(theirs)
    ours.start()
    theirs.start()
    try:
        with ours.lock("shared"):
            assert not theirs.get_lock(b"shared").acquire(blocking=False)
    finally:
        theirs.stop()
        ours.stop()


def test_a_file_coordinator_runs_its_group_calls_inline(tmp_path):
    """The file driver's calls run in the caller's thread (no pool whose idle worker made
    every stop wait a second); a URL that names an executor still gets it."""
    import futurist

    url = _urls(tmp_path)["file"]
    inline, pooled = Coordinator(url, "inline"), Coordinator(url + "?executor=threaded", "pooled")
    inline.start()
    pooled.start()
    try:
        inline.join("g")
        pooled.join("g")
        assert inline.members("g") == pooled.members("g") == {"inline", "pooled"}
        assert isinstance(inline._coordinator._executor.executor, futurist.SynchronousExecutor)
        assert isinstance(pooled._coordinator._executor.executor, futurist.ThreadPoolExecutor)
    finally:
        pooled.stop()
        inline.stop()
