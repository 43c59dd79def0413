"""Moving QEMU guests between two drivers on separate state directories (two hosts whose
storage is not shared), with the boot-sector guests of test_qemu_driver.py.  Their image
carries a pattern past the boot sector: the root disk that arrives on the other side
must hold it without the base image it was an overlay of (the guest writing to its disk
while it moves: tests/integration/test_qemu_moves.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_qemu_driver import ACCEL, STARTED, TOOLS, Images, boot, boot_sector, qmp, spec, wait_console

import pocketstack
from pocketstack.compute import states
from pocketstack.compute.drivers.base import MigrationCancelled, MoveControl
from pocketstack.compute.drivers.qemu import QemuDriver, QemuError
from pocketstack.compute.drivers.qemu_moves import KEPT

from support import require_tools

VM = "22222222-3333-4444-5555-666666666666"
PATTERN = b"pocketstack-moved-disk:" * 100
AT = 2 << 20


@pytest.fixture
def hosts(tmp_path: Path) -> Iterator[tuple[QemuDriver, QemuDriver]]:
    require_tools(TOOLS, "the QEMU driver")
    raw = tmp_path / "boot.raw"
    with open(raw, "wb") as f:
        f.write(boot_sector())
        f.seek(AT)
        f.write(PATTERN)
        f.truncate(4 << 20)
    subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(raw), str(tmp_path / "boot.qcow2")],
                   check=True)
    images = Images(tmp_path)
    images.add("boot", tmp_path / "boot.qcow2", "qcow2")
    pair = tuple(QemuDriver(name, tmp_path / name, images, shutdown_timeout=1.0, accel=ACCEL)
                 for name in ("host-a", "host-b"))
    yield pair  # type: ignore[misc]
    for drv in pair:
        for instance_id in drv.guests():
            STARTED.add(drv.pid(instance_id) or 0)
            drv.destroy(instance_id)
        drv.close()


def holds_pattern(disk: Path, tmp_path: Path) -> bool:
    """Whether the disk (as its guest sees it, backing chain included) has the image's pattern."""
    out = tmp_path / "read.raw"
    subprocess.run(["qemu-img", "convert", "-U", "-O", "raw", str(disk), str(out)], check=True)
    with open(out, "rb") as f:
        f.seek(AT)
        return f.read(len(PATTERN)) == PATTERN


def backing(path: Path) -> str | None:
    info = json.loads(subprocess.run(["qemu-img", "info", "-U", "--output=json", str(path)], check=True,
                                     capture_output=True, text=True).stdout)
    return info.get("backing-filename")


def test_live_migration_moves_memory_and_disks_and_keeps_a_paused_guest_paused(hosts, tmp_path: Path) -> None:
    source, dest = hosts
    drive = tmp_path / "config.iso"
    drive.write_bytes(b"config-2".ljust(1 << 16, b"\0"))
    vm = boot(source, VM, ephemeral_gb=1, config_drive=str(drive))
    wait_console(source, vm)
    qmp(source, vm, "stop")
    source_pid = source.pid(vm)

    assert source.live_migration(spec(vm), dest) == states.POWER_PAUSED
    STARTED.add(dest.pid(vm) or 0)
    assert source.pid(vm) is None and dest.pid(vm) not in (None, source_pid)
    assert source.guests() == [] and not (source.state_dir / vm).exists()
    assert dest.guests() == [vm]
    assert holds_pattern(dest.state_dir / vm / "disk", tmp_path)
    assert backing(dest.state_dir / vm / "disk") is None  # standalone: the destination needs no base image
    assert (dest.state_dir / vm / "disk.eph0").exists() and (dest.state_dir / vm / "disk.config").read_bytes() \
        == drive.read_bytes()
    assert source.console_output(vm) == "" and "pocketstack-guest-ok" in dest.console_output(vm)
    figures = source.migrations[vm]
    assert figures["total-time"] > 0 and figures["downtime"] >= 0 and figures["ram-bytes"] > 0

    # ... and back, running this time.
    qmp(dest, vm, "cont")
    assert dest.live_migration(spec(vm), source) == states.RUNNING
    STARTED.add(source.pid(vm) or 0)
    assert dest.guests() == [] and source.guests() == [vm]
    assert holds_pattern(source.state_dir / vm / "disk", tmp_path)


def test_a_failed_live_migration_leaves_the_guest_running_on_the_source(hosts) -> None:
    source, dest = hosts
    vm = boot(source, VM)
    pid = source.pid(vm)
    dest.binary = "/bin/false"  # the destination QEMU does not start
    with pytest.raises(QemuError):
        source.live_migration(spec(vm), dest)
    assert source.pid(vm) == pid and source.power_state(vm) == states.RUNNING
    assert dest.guests() == [] and not (dest.state_dir / vm).exists()


def test_cold_migration_copies_the_disks_and_revert_or_confirm_ends_it(hosts, tmp_path: Path) -> None:
    source, dest = hosts
    vm = boot(source, VM, swap_mb=16)
    source.migrate_disk_and_power_off(vm, dest)
    assert source.guests() == [] and source.pid(vm) is None
    assert (source.state_dir / KEPT / vm / "guest.json").exists()
    assert dest.finish_migration(spec(vm), power_on=True) == states.RUNNING
    STARTED.add(dest.pid(vm) or 0)
    assert holds_pattern(dest.state_dir / vm / "disk", tmp_path)
    assert (dest.state_dir / vm / "disk.swap").exists() and backing(dest.state_dir / vm / "disk") is None

    # Revert: the destination's copy goes, the source's own (on its base image) comes back.
    dest.destroy(vm)
    assert source.finish_revert_migration(spec(vm), power_on=True) == states.RUNNING
    STARTED.add(source.pid(vm) or 0)
    assert backing(source.state_dir / vm / "disk") is not None and not (source.state_dir / KEPT / vm).exists()
    assert holds_pattern(source.state_dir / vm / "disk", tmp_path)

    # Again, stopped, and confirmed: the source keeps nothing.
    source.migrate_disk_and_power_off(vm, dest)
    assert dest.finish_migration(spec(vm), power_on=False) == states.SHUTDOWN
    source.confirm_migration(vm)
    assert not (source.state_dir / KEPT / vm).exists() and source.guests() == []
    with pytest.raises(QemuError, match="moves only to another QEMU host"):
        dest.migrate_disk_and_power_off(vm, dest)


# -- abort, force-complete, a restart mid-move ---------------------------------------------
def migrating(driver: QemuDriver, vm: str, mover: threading.Thread, control: MoveControl) -> None:
    """Until QEMU moves the guest's memory (the disk mirrors in sync), the move still running."""
    deadline = time.monotonic() + 30
    while (qmp(driver, vm, "query-migrate") or {}).get("status") != "active":
        if not mover.is_alive() or time.monotonic() > deadline:
            control.abort.set()  # the move lets go of the guest: the fixture can remove it
            mover.join(60)
            raise AssertionError("the live migration did not get to its memory")
        time.sleep(0.02)


def move_in_background(source: QemuDriver, vm: str, dest: QemuDriver, control: MoveControl) -> tuple[
        threading.Thread, list]:
    outcome: list = []

    def run() -> None:
        try:
            outcome.append(source.live_migration(spec(vm), dest, control))
        except BaseException as error:  # noqa: BLE001 - handed to the test
            outcome.append(error)
    mover = threading.Thread(target=run)
    mover.start()
    return mover, outcome


def test_an_aborted_live_migration_leaves_the_guest_running_on_the_source(hosts) -> None:
    """QEMU's bandwidth capped (1 MiB/s) so that the move is caught in its memory phase:
    the abort cancels it, the source guest (same QEMU, same console) runs on, the
    destination keeps nothing, and the guest can still move afterwards."""
    source, dest = hosts
    vm = boot(source, VM)
    wait_console(source, vm)
    pid = source.pid(vm)
    source.live_migration_bandwidth = 1
    control = MoveControl()
    mover, outcome = move_in_background(source, vm, dest, control)
    migrating(source, vm, mover, control)
    STARTED.add(dest.pid(vm) or 0)
    control.abort.set()
    mover.join(60)
    assert isinstance(outcome[0], MigrationCancelled)
    assert source.pid(vm) == pid and source.power_state(vm) == states.RUNNING
    assert qmp(source, vm, "query-migrate")["status"] == "cancelled" and qmp(source, vm, "query-block-jobs") == []
    assert dest.guests() == [] and not (dest.state_dir / vm).exists()
    assert source.console_output(vm).count("pocketstack-guest-ok") == 1  # the same boot, its console kept

    source.live_migration_bandwidth = 0
    assert source.live_migration(spec(vm), dest) == states.RUNNING
    STARTED.add(dest.pid(vm) or 0)
    assert source.guests() == [] and dest.guests() == [vm]


def test_a_forced_live_migration_pauses_the_guest_and_resumes_it_on_the_destination(hosts) -> None:
    source, dest = hosts
    vm = boot(source, VM)
    wait_console(source, vm)
    source.live_migration_bandwidth = 1
    control = MoveControl()
    mover, outcome = move_in_background(source, vm, dest, control)
    migrating(source, vm, mover, control)
    STARTED.add(dest.pid(vm) or 0)
    control.force.set()
    mover.join(120)
    assert outcome == [states.RUNNING] and source.migrations[vm]["forced"] is True
    assert source.pid(vm) is None and dest.guests() == [vm] and qmp(dest, vm, "query-status")["status"] == "running"


MOVER = """
import os, sys
from pocketstack.compute.drivers import qemu_moves
from pocketstack.compute.drivers.qemu import QemuDriver
source, dest, accel, vm, die_at = sys.argv[1:]
a = QemuDriver("host-a", source, None, accel=accel or None, live_migration_bandwidth=1 if die_at == "mirror" else 0)
b = QemuDriver("host-b", dest, None, accel=accel or None)
wait_ready, finish_incoming = qemu_moves._wait_ready, qemu_moves.finish_incoming
def mirroring(*args):
    print("mirroring", flush=True)
    return wait_ready(*args)
def switched(*args, **kw):
    print("switched", flush=True)
    os.kill(os.getpid(), 9)
qemu_moves._wait_ready, qemu_moves.finish_incoming = mirroring, switched
qemu_moves.live_migration(a, vm, b)
"""


def die_during_a_move(source: QemuDriver, vm: str, dest: QemuDriver, at: str) -> None:
    """A compute service moving ``vm`` killed (-9) ``at`` the disk mirror or right after
    the switch-over; its QEMUs run on."""
    source._qmp.drop(vm)  # a QMP socket takes one client: the service's
    env = dict(os.environ, PYTHONPATH=str(Path(pocketstack.__file__).parents[1]))
    service = subprocess.Popen([sys.executable, "-c", MOVER, str(source.state_dir), str(dest.state_dir), ACCEL or "",
                                vm, at], stdout=subprocess.PIPE, env=env, text=True)
    try:
        assert service.stdout is not None
        want = "mirroring\n" if at == "mirror" else "switched\n"
        while (line := service.stdout.readline()) != want:
            assert line, "the moving service ended early"
    finally:
        if at == "mirror":
            service.kill()
        service.wait()
    STARTED.add(dest.pid(vm) or 0)


def test_a_move_left_by_a_killed_service_is_rolled_back_or_finished(hosts) -> None:
    """A restarted compute service recovers: killed during the disk mirror, the guest
    runs on at the source (same QEMU) and the destination's half-made guest goes; killed
    after QEMU's switch-over, the destination's guest is resumed and the source's ended."""
    source, dest = hosts
    vm = boot(source, VM)
    wait_console(source, vm)
    pid = source.pid(vm)
    die_during_a_move(source, vm, dest, "mirror")
    assert dest.pid(vm) is not None  # the half-made guest, waiting for its memory
    assert source.recover_live_migration(vm, dest, resume=True) is False
    assert source.pid(vm) == pid and source.power_state(vm) == states.RUNNING
    assert dest.guests() == [] and not (dest.state_dir / vm).exists()
    assert qmp(source, vm, "query-block-jobs") == []

    die_during_a_move(source, vm, dest, "switch-over")
    assert qmp(source, vm, "query-migrate")["status"] == "completed"
    assert qmp(dest, vm, "query-status")["status"] == "paused"
    assert source.recover_live_migration(vm, dest, resume=True) is True
    assert source.pid(vm) is None and source.guests() == [] and dest.guests() == [vm]
    assert dest.power_state(vm) == states.RUNNING and "pocketstack-guest-ok" in dest.console_output(vm)
