"""Instance HA's fence drivers and leader election, without a cloud.

The ``command`` driver runs real shell scripts (an operator's fence agent, ipmitool
style); the ``qemu-host`` driver kills real processes that look like a host's QEMU
guests (``qemu-system-x86_64 ... guest=<id>``, with their pidfiles where the QEMU driver
keeps them) and is confirmed only once none is left; the leader is the holder of one
tooz lock, on the file backend and on Redis.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from pocketstack.common import config
from pocketstack.common.coordination import Coordinator
from pocketstack.compute.drivers.qemu_guest import QEMU, running_guests
from pocketstack.ha.fencing import CommandFence, FenceResult, QemuHostFence, chosen_drivers, fence_with_retries
from pocketstack.ha.leader import Leadership

from support import require_service


# -- command -------------------------------------------------------------------------------
def test_command_fences_when_the_agent_and_its_check_say_so(tmp_path):
    power = tmp_path / "power"
    agent = CommandFence(f"echo off > {power}.{{host}}", verify=f"grep -q off {power}.{{host}}", timeout=5)
    result = agent.fence("host-1")
    assert result.confirmed and (tmp_path / "power.host-1").read_text() == "off\n"
    assert "verify" in result.message


def test_command_is_unconfirmed_on_failure_a_failed_check_or_a_timeout(tmp_path):
    assert not CommandFence("echo 'no route to BMC' >&2; exit 3").fence("h").confirmed
    refused = CommandFence("echo 'no route to BMC' >&2; exit 3").fence("h")
    assert "exited 3" in refused.message and "no route to BMC" in refused.message
    assert not CommandFence("true", verify="echo on; exit 1").fence("h").confirmed
    slow = CommandFence("sleep 5", timeout=0.2).fence("h")
    assert not slow.confirmed and "did not finish within 0.2s" in slow.message
    assert not CommandFence("").fence("h").confirmed


def test_the_host_name_reaches_the_command_quoted(tmp_path):
    seen = tmp_path / "seen"
    CommandFence(f"printf %s {{host}} > {seen}").fence("evil; touch pwned")
    assert seen.read_text() == "evil; touch pwned" and not Path("pwned").exists()


def test_a_failed_fence_is_retried_then_reported(tmp_path):
    tries = tmp_path / "tries"
    script = f"echo x >> {tries}; test $(wc -l < {tries}) -ge 2"
    result = fence_with_retries(CommandFence(script), "h", attempts=3, pause=0)
    assert result.confirmed and tries.read_text().count("x") == 2 and "attempt 2" in result.message
    tries.unlink()
    failed = fence_with_retries(CommandFence(f"echo x >> {tries}; exit 1"), "h", attempts=2, pause=0)
    assert not failed.confirmed and tries.read_text().count("x") == 2


def test_a_driver_that_raises_is_an_unconfirmed_fence():
    class Broken:
        name = "broken"

        def fence(self, host: str) -> FenceResult:
            raise OSError("BMC socket closed")

    result = fence_with_retries(Broken(), "h", attempts=1)
    assert not result.confirmed and "BMC socket closed" in result.message


# -- qemu-host -----------------------------------------------------------------------------
class QemuHost:
    """A host's state directory with guests whose "QEMU" is a shell named like QEMU and
    started for the guest (what ``running_guests`` checks in /proc), as the compute
    contract's ``guest_processes`` reads them."""

    def __init__(self, state_dir: Path):
        self.state_dir = state_dir
        self.processes: list[subprocess.Popen] = []

    def start_guest(self) -> str:
        instance_id = str(uuid.uuid4())
        guest = self.state_dir / instance_id
        guest.mkdir(parents=True)
        (guest / "guest.json").write_text(json.dumps({"instance_id": instance_id}))
        proc = subprocess.Popen([QEMU, "-c", "sleep 60; exit 0", f"guest={instance_id}"], executable="/bin/sh")
        (guest / "qemu.pid").write_text(str(proc.pid))
        self.processes.append(proc)
        deadline = time.monotonic() + 10  # Popen returns before the child has exec'd "QEMU"
        while instance_id not in running_guests(self.state_dir) and time.monotonic() < deadline:
            time.sleep(0.01)
        return instance_id

    def guest_processes(self, host: str) -> dict[str, int]:
        for proc in self.processes:
            proc.poll()  # reap the killed ones, as init reaps a daemonized QEMU
        return running_guests(self.state_dir)


@pytest.fixture()
def qemu_host(tmp_path):
    host = QemuHost(tmp_path / "qemu" / "host-1")
    yield host
    for proc in host.processes:
        proc.kill()
        proc.wait()


def test_qemu_host_kills_every_guest_of_the_host_and_checks_none_is_left(qemu_host, tmp_path):
    guests = {qemu_host.start_guest() for _ in range(2)}
    assert set(qemu_host.guest_processes("host-1")) == guests
    other = QemuHost(tmp_path / "qemu" / "host-2")  # another host's guest is not touched
    bystander = other.start_guest()
    try:
        result = QemuHostFence(qemu_host, wait=5).fence("host-1")
        assert result.confirmed and "killed 2 QEMU process(es)" in result.message
        assert qemu_host.guest_processes("host-1") == {}
        assert set(other.guest_processes("host-2")) == {bystander}
        assert QemuHostFence(qemu_host).fence("host-1").confirmed  # fencing again is harmless
    finally:
        for proc in other.processes:
            proc.kill()
            proc.wait()


def test_qemu_host_is_unconfirmed_while_a_guest_survives(qemu_host):
    qemu_host.start_guest()

    class Unkillable:
        def guest_processes(self, host: str) -> dict[str, int]:
            return {"ghost": 2 ** 22 + 1} | qemu_host.guest_processes(host)  # a pid that is no process of ours

    result = QemuHostFence(Unkillable(), wait=0.2).fence("host-1")
    assert not result.confirmed and "ghost" in result.message


# -- settings ------------------------------------------------------------------------------
def test_fence_driver_settings(tmp_path):
    settings = config.load(overrides={"data_dir": tmp_path}, environ={})
    assert chosen_drivers(settings) == ("fake", {})
    assert chosen_drivers(dataclasses.replace(settings, hypervisor="qemu")) == ("qemu-host", {})
    chosen = dataclasses.replace(settings, ha_fence_hosts="h1=command, h2=qemu-host")
    assert chosen_drivers(chosen) == ("fake", {"h1": "command", "h2": "qemu-host"})
    for bad in ({"ha_fence_driver": "ipmi"}, {"ha_fence_hosts": "h1"}, {"ha_fence_hosts": "h1=stonith"}):
        with pytest.raises(ValueError):
            chosen_drivers(dataclasses.replace(settings, **bad))


# -- the leader ----------------------------------------------------------------------------
@pytest.fixture(params=["file", "redis"])
def coordination_url(request, tmp_path):
    if request.param == "redis":
        require_service("redis")
        return "redis://127.0.0.1:6379?timeout=5"
    return f"file://{tmp_path}/locks"


def test_exactly_one_leads_and_another_takes_over(coordination_url):
    members = [Coordinator(coordination_url, f"ha-{i}-{uuid.uuid4().hex}") for i in range(3)]
    for member in members:
        member.start()
    try:
        name = f"ha-leader-{uuid.uuid4().hex}"
        leaders = [Leadership(lambda m=m: m, name) for m in members]
        assert [leader.lead() for leader in leaders] == [True, False, False]
        assert leaders[0].lead()  # still leading on the next round
        leaders[0].resign()
        assert [leader.lead() for leader in leaders[1:]] == [True, False]
        assert not leaders[0].lead()
    finally:
        for member in members:
            member.stop()
