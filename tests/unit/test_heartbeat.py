"""Host liveness through coordination membership (common/heartbeat.py), on the real
file backend and, when it runs, the real Redis (where a silent member expires)."""

from __future__ import annotations

import time
import uuid

import pytest

from pocketstack.common.coordination import Coordinator
from pocketstack.common.heartbeat import Heartbeat, Liveness

from support import require_service


def eventually(check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met"
        time.sleep(0.1)


@pytest.fixture
def coordinators(tmp_path):
    started = []

    def make(url: str) -> Coordinator:
        coordinator = Coordinator(url, f"member-{uuid.uuid4().hex[:8]}")
        coordinator.start()
        started.append(coordinator)
        return coordinator
    yield make
    for coordinator in started:
        coordinator.stop()


async def test_members_hosts_are_alive_until_they_leave(tmp_path, coordinators):
    url = f"file://{tmp_path}"
    worker, reader = coordinators(url), coordinators(url)
    group = f"test-{uuid.uuid4().hex[:8]}"
    heartbeat = Heartbeat(lambda: worker, group, interval=0.1)
    liveness = Liveness(lambda: reader, group)
    assert liveness.alive() == set()

    await heartbeat.start({"h1"})
    liveness.forget()
    assert liveness.alive() == {"h1"}
    heartbeat.add_host("h2")  # the file backend re-joins with the new capabilities
    liveness.forget()
    assert liveness.alive() == {"h1", "h2"}

    await heartbeat.stop()
    liveness.forget()
    assert liveness.alive() == set()


async def test_a_process_counts_its_own_hosts_alive(tmp_path, coordinators):
    coordinator = coordinators(f"file://{tmp_path}")
    group = f"test-{uuid.uuid4().hex[:8]}"
    heartbeat = Heartbeat(lambda: coordinator, group, interval=0.1)
    await heartbeat.start({"mine"})
    try:
        assert Liveness(lambda: coordinator, group, own=heartbeat).alive() == {"mine"}
    finally:
        await heartbeat.stop()


async def test_a_member_that_stops_heartbeating_expires_on_redis(coordinators):
    require_service("redis")
    url = "redis://127.0.0.1:6379?membership_timeout=2"
    group = f"pstest-{uuid.uuid4().hex[:8]}"
    silent = Coordinator(url, f"member-{uuid.uuid4().hex[:8]}")  # no tooz heart thread: beats only when told
    silent._coordinator.start(start_heart=False)
    reader = coordinators(url)
    heartbeat = Heartbeat(lambda: silent, group, interval=0.1)
    liveness = Liveness(lambda: reader, group)
    try:
        await heartbeat.start({"gone-soon"})
        heartbeat.beat()
        assert liveness.alive() == {"gone-soon"}
        heartbeat._task.cancel()  # the process "dies": no more heartbeats, no leave

        def expired():
            liveness.forget()
            return liveness.alive() == set()
        eventually(expired)
    finally:
        silent._coordinator.stop()
        reader._coordinator.delete_group(group.encode()).get()


def test_redis_members_expire_after_service_down_time_unless_the_url_says():
    from pocketstack.common.config import load

    settings = load(overrides={"coordination_url": "redis://127.0.0.1:6379", "service_down_time": 45}, environ={})
    assert settings.effective_coordination_url == "redis://127.0.0.1:6379?membership_timeout=45"
    settings = load(overrides={"coordination_url": "redis://127.0.0.1:6379?membership_timeout=9"}, environ={})
    assert settings.effective_coordination_url == "redis://127.0.0.1:6379?membership_timeout=9"
    assert load(overrides={"data_dir": "/tmp/x"}, environ={}).effective_coordination_url == "file:///tmp/x/locks"
