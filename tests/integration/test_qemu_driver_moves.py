"""Moving QEMU guests between two drivers on separate state directories (two hosts whose
storage is not shared), with the boot-sector guests of test_qemu_driver.py.  Their image
carries a pattern past the boot sector: the root disk that arrives on the other side
must hold it without the base image it was an overlay of (the guest writing to its disk
while it moves: tests/integration/test_qemu_moves.py)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_qemu_driver import ACCEL, STARTED, TOOLS, Images, boot, boot_sector, qmp, spec, wait_console

from pocketstack.compute import states
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
