"""Moving a QEMU guest between two hosts whose state directories are not shared.

**Cold** (``migrate``, Nova's ``migrate_disk_and_power_off`` / ``finish_migration``): the
guest is stopped on the source, its directory set aside as ``<state>/_resize/<id>/``
(kept for a revert, dropped by the confirm; no host lists it as a guest), and its local
disks -- root, ephemeral, swap, config drive -- copied into the destination's directory:
standalone copies (a root overlay flattened), since the destination's image cache may not
hold the base.  Volumes are files of the volume service, named by path: not copied.

**Live** (``os-migrateLive``), as Nova's libvirt driver does for non-shared storage
(``VIR_MIGRATE_NON_SHARED_INC``, which libvirt carries out over NBD): the destination
creates empty disks of the same sizes, starts QEMU with ``-incoming defer`` and exports
those disks on an NBD server (a unix socket in a short temporary directory); the source mirrors each
disk into its export (``blockdev-mirror``, ``write-blocking``: once in sync the guest's
writes reach both) while the guest runs, then QEMU migrates RAM and device state over a
unix socket, with ``pause-before-switchover``: at the switch-over, vCPUs stopped, the
mirrors are completed (the destination disks now hold every write), then the source hands
over.  The destination guest is resumed as the source was (running or paused), the
source QEMU ends and its directory goes.  Both ends run on this machine (the hosts of one
process, or of processes sharing its file system), which the sockets need.

Until the switch-over the move can be **aborted** (2.24, Nova's ``live_migration_abort``:
QEMU's ``migrate_cancel``, as libvirt's ``abortJob``) and rolled back, or **forced** to
complete (2.22: the guest is paused -- ``stop`` -- so that nothing dirties its memory or
disks any more and the move converges; it runs again on the destination).  A process
that dies mid-move leaves both QEMUs running: :func:`recover_live_migration` finishes or
rolls back what they show.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from pocketstack.compute.drivers import disks
from pocketstack.compute.drivers.base import MigrationCancelled, MoveControl
from pocketstack.compute.drivers.qemu_guest import DiskDef, GuestDef
from pocketstack.compute.drivers.qmp import QmpError

if TYPE_CHECKING:
    from pocketstack.compute.drivers.qemu import QemuDriver

log = logging.getLogger(__name__)

KEPT = "_resize"  # <state>/_resize/<id>/: a cold-migrated guest's source copy until confirm or revert
MIGRATION_TIMEOUT = 600.0
CONSOLE_KEPT = 1 << 20  # the last MiB of the source's serial log follows a live-migrated guest
#: QEMU's migration parameters: both ends on one machine, so no bandwidth cap unless the
#: host sets one (QEMU's default is 128 MiB/s), and Nova's default
#: ``live_migration_downtime`` (500 ms)
PARAMETERS = {"max-bandwidth": 8 << 30, "downtime-limit": 500}


class MigrationError(Exception):
    """A move of a guest failed; the guest is left where it was."""


def local_disks(guest: GuestDef, directory: Path) -> list[DiskDef]:
    """The guest's disks that are files of its own directory (a boot volume is not)."""
    return [d for d in guest.disks if Path(d.path).parent == directory]


def kept_dir(driver: QemuDriver, instance_id: str) -> Path:
    driver._dir(instance_id)  # the id is checked
    return driver.state_dir / KEPT / instance_id


def _moved(disk: DiskDef, dest_dir: Path) -> DiskDef:
    """The disk as the destination has it: in its directory, no longer on a base image."""
    return replace(disk, path=str(dest_dir / Path(disk.path).name), base=None)


# -- cold ---------------------------------------------------------------------------
def migrate_disk_and_power_off(source: QemuDriver, instance_id: str, dest: QemuDriver) -> None:
    """Stop the guest, set its directory aside and copy its local disks to ``dest``
    (re-runnable: an interrupted one finds its directory already set aside)."""
    home, kept = source._dir(instance_id), kept_dir(source, instance_id)
    if (home / "guest.json").exists():
        guest = source._definition(instance_id)
        source._stop_process(instance_id, graceful=source.shutdown_timeout)
        if guest.nics and source.nic_backend is not None:
            source.nic_backend.unplug(guest.nics)
        shutil.rmtree(kept, ignore_errors=True)
        kept.parent.mkdir(mode=0o700, exist_ok=True)
        home.rename(kept)
    if not (kept / "guest.json").exists():
        raise MigrationError(f"guest {instance_id} is not on host {source.host}")
    receive(dest, GuestDef.load(kept / "guest.json"), home, kept)


def receive(dest: QemuDriver, guest: GuestDef, home: Path, files: Path) -> None:
    """Make ``guest`` (defined in ``home`` on its source, its files now in ``files``) a
    stopped guest of ``dest``: its local disks copied, its definition saved."""
    with dest._lock(guest.instance_id):
        d = dest._dir(guest.instance_id)
        shutil.rmtree(d, ignore_errors=True)  # an interrupted copy
        d.mkdir(mode=0o700, parents=True)
        local = {disk.name for disk in local_disks(guest, home)}
        try:
            for disk in guest.disks:
                if disk.name in local:
                    disks.copy(files / Path(disk.path).name, disk.format, d / Path(disk.path).name)
            guest.disks = [_moved(disk, d) if disk.name in local else disk for disk in guest.disks]
            dest._save(guest)
            for log_file in ("console.log.0", "console.log"):  # the console's history goes along
                if (files / log_file).exists():
                    shutil.copyfile(files / log_file, d / log_file)
        except BaseException:
            shutil.rmtree(d, ignore_errors=True)
            raise


def finish_revert_migration(source: QemuDriver, instance_id: str, power_on: bool) -> None:
    """The set-aside directory back in place (the destination's copy is gone already);
    started when ``power_on``."""
    with source._lock(instance_id):
        home, kept = source._dir(instance_id), kept_dir(source, instance_id)
        if kept.exists():
            shutil.rmtree(home, ignore_errors=True)
            kept.rename(home)
        guest = source._definition(instance_id)
        if power_on and source.pid(instance_id) is None:
            source._start(guest)


def confirm_migration(source: QemuDriver, instance_id: str) -> None:
    shutil.rmtree(kept_dir(source, instance_id), ignore_errors=True)


# -- live ---------------------------------------------------------------------------
def live_migration(source: QemuDriver, instance_id: str, dest: QemuDriver, control: MoveControl | None = None) -> dict:
    """Move the running (or paused) guest to ``dest`` with its local disks; returns
    QEMU's figures of the migration (``query-migrate``'s ``total-time``, ``downtime`` and
    ``setup-time`` in ms, RAM bytes sent) and the disk bytes mirrored.  On failure, or
    :class:`MigrationCancelled` when ``control.abort`` is set before the switch-over, the
    source guest runs on as it was and the destination keeps nothing."""
    with source._lock(instance_id):
        guest = source._definition(instance_id)
        if guest.nics and source.nic_backend is not None:
            # Both hosts are on this machine: a port's tap (named after the port) cannot
            # be held by the source and the destination QEMU at once.
            raise MigrationError(f"guest {instance_id} has NICs: its taps cannot be on two hosts of one machine "
                                 "at once (cold-migrate it)")
        # Short socket paths (a unix socket's is at most 107 bytes): QEMU binds them after
        # its start, from /, so they cannot be relative to a deep state directory.
        with tempfile.TemporaryDirectory(prefix="pocketstack-mig-") as sockets:
            return _live(source, guest, dest, Path(sockets), _Steering(source, instance_id, control))


class _Steering:
    """Acts on the manager's requests between two polls of a move: an abort raises
    :class:`MigrationCancelled`; a forced completion pauses the guest (once)."""

    def __init__(self, source: QemuDriver, instance_id: str, control: MoveControl | None):
        self.source, self.instance_id, self.control = source, instance_id, control or MoveControl()
        self.forced = False

    def __call__(self) -> None:
        if self.control.abort.is_set():
            raise MigrationCancelled(f"live migration of {self.instance_id} aborted")
        if self.control.force.is_set() and not self.forced:
            self.forced = True
            if self.source._status(self.instance_id) == "running":
                log.info("live migration of %s forced to complete: guest paused", self.instance_id)
                self.source._qmp_cmd(self.instance_id, "stop")


def _live(source: QemuDriver, guest: GuestDef, dest: QemuDriver, sockets: Path, steer: _Steering) -> dict:
    instance_id, home = guest.instance_id, source._dir(guest.instance_id)
    was = source._status(instance_id)
    mirrored = [d for d in local_disks(guest, home) if d.kind == "disk"]
    started = time.monotonic()
    prepare_incoming(dest, guest, home, sockets / "nbd.sock")
    jobs: list[str] = []
    bandwidth = source.live_migration_bandwidth << 20  # of the memory copy (a mirror's cap counts its zeros)
    try:
        for disk in mirrored:
            jobs.append(_mirror(source, instance_id, disk, sockets / "nbd.sock"))
        _wait_ready(source, instance_id, jobs, steer)
        synced = time.monotonic()
        source._qmp_cmd(instance_id, "migrate-set-capabilities", {"capabilities": [
            {"capability": "pause-before-switchover", "state": True}]})
        source._qmp_cmd(instance_id, "migrate-set-parameters", PARAMETERS | (
            {"max-bandwidth": bandwidth} if bandwidth else {}))
        uri = f"unix:{sockets / 'migrate.sock'}"
        dest._qmp_cmd(instance_id, "migrate-incoming", {"uri": uri})
        source._qmp_cmd(instance_id, "migrate", {"uri": uri})
        stats = _switch_over(source, instance_id, jobs, steer)
    except BaseException as error:
        _roll_back(source, instance_id, dest, jobs, was)
        if isinstance(error, (QmpError, MigrationError)):
            raise MigrationError(f"live migration of {instance_id} to {dest.host} failed: {error}") from error
        raise
    _carry_console(home / "console.log", dest._dir(instance_id) / "console.log")
    finish_incoming(dest, instance_id, resume=was == "running")
    source.destroy(instance_id)
    moved = local_disks(dest._definition(instance_id), dest._dir(instance_id))
    figures = {"total-time": stats.get("total-time"), "downtime": stats.get("downtime"),
               "setup-time": stats.get("setup-time"), "ram-bytes": (stats.get("ram") or {}).get("transferred"),
               "disk-bytes": sum(int(disks.qemu_img_info(Path(d.path), d.format, force_share=True)
                                     .get("actual-size", 0)) for d in moved),
               "disk-sync-s": round(synced - started, 3), "elapsed-s": round(time.monotonic() - started, 3),
               "forced": steer.forced}
    log.info("live migration of %s from %s to %s: %s", instance_id, source.host, dest.host, figures)
    return figures


def prepare_incoming(dest: QemuDriver, guest: GuestDef, home: Path, socket: Path) -> None:
    """The destination's half before the move: empty disks of the source's sizes (the
    read-only config drive copied as is), QEMU started with ``-incoming defer``, its
    writable disks exported over NBD on the unix socket ``socket``."""
    with dest._lock(guest.instance_id):
        d = dest._dir(guest.instance_id)
        if (d / "guest.json").exists():
            raise MigrationError(f"host {dest.host} already has a guest {guest.instance_id}")
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(mode=0o700, parents=True)
        incoming = GuestDef.load(home / "guest.json")
        local = {disk.name for disk in local_disks(incoming, home)}
        try:
            for disk in incoming.disks:
                if disk.name not in local:
                    continue
                target = d / Path(disk.path).name
                if disk.kind == "cdrom":
                    disks.copy(Path(disk.path), disk.format, target)
                else:
                    size = int(disks.qemu_img_info(Path(disk.path), disk.format, force_share=True)["virtual-size"])
                    disks.create_empty(target, disk.format, size)
            incoming.disks = [_moved(disk, d) if disk.name in local else disk for disk in incoming.disks]
            dest._save(incoming)
            dest._start(incoming, incoming="defer")
            dest._qmp_cmd(guest.instance_id, "nbd-server-start", {"addr": {"type": "unix", "data": {
                "path": str(socket)}}})
            for disk in incoming.disks:
                if disk.name in local and disk.kind == "disk":
                    dest._qmp_cmd(guest.instance_id, "block-export-add", {
                        "type": "nbd", "id": f"mig-{disk.name}", "node-name": disk.name, "name": disk.name,
                        "writable": True})
        except BaseException:
            dest.destroy(guest.instance_id)
            raise


def finish_incoming(dest: QemuDriver, instance_id: str, resume: bool) -> None:
    """The destination's half after the switch-over: the NBD server stopped, the guest
    resumed when it ran on the source (a paused one stays paused)."""
    with dest._lock(instance_id):
        dest._qmp_cmd(instance_id, "nbd-server-stop")
        if resume:
            dest._qmp_cmd(instance_id, "cont")


def _carry_console(source_log: Path, dest_log: Path) -> None:
    """Put the source's serial log before what the destination logged (nothing, or
    little: its guest has not run yet), in place: the destination QEMU appends to it."""
    try:
        history = source_log.read_bytes()[-CONSOLE_KEPT:]
    except FileNotFoundError:
        return
    with open(dest_log, "r+b") as f:
        own = f.read()
        f.seek(0)
        f.write(history + own)


def _mirror(source: QemuDriver, instance_id: str, disk: DiskDef, nbd: Path) -> str:
    """Start mirroring ``disk`` into the destination's NBD export of it; returns the job."""
    target, job = f"mig-{disk.name}", f"mirror-{disk.name}"
    source._qmp_cmd(instance_id, "blockdev-add", {
        "driver": "nbd", "node-name": target, "export": disk.name,
        "server": {"type": "unix", "path": str(nbd)}})
    source._qmp_cmd(instance_id, "blockdev-mirror", {
        "job-id": job, "device": disk.name, "target": target, "sync": "full", "copy-mode": "write-blocking",
        "auto-finalize": True, "auto-dismiss": True})
    return job


def _jobs(source: QemuDriver, instance_id: str) -> dict[str, dict]:
    return {j["device"]: j for j in source._qmp_cmd(instance_id, "query-block-jobs")}


def _wait_ready(source: QemuDriver, instance_id: str, jobs: list[str], steer: _Steering) -> None:
    """Until every mirror has copied the whole disk (READY: in sync from then on)."""
    deadline = time.monotonic() + MIGRATION_TIMEOUT
    while True:
        steer()
        found = _jobs(source, instance_id)
        missing = [j for j in jobs if j not in found]
        if missing:
            raise MigrationError(f"disk mirror {', '.join(missing)} ended before it was in sync")
        if all(found[j].get("ready") for j in jobs):
            return
        if time.monotonic() > deadline:
            raise MigrationError("the disk mirrors did not get in sync in time")
        time.sleep(0.05)


def _switch_over(source: QemuDriver, instance_id: str, jobs: list[str], steer: _Steering) -> dict:
    """Follow ``query-migrate``; at ``pre-switchover`` (vCPUs stopped) complete the disk
    mirrors -- ``block-job-cancel`` of a mirror in sync finishes it with the target a full
    copy -- and let QEMU switch over (no abort from then on).  Returns the last
    ``query-migrate``."""
    deadline = time.monotonic() + MIGRATION_TIMEOUT
    while True:
        steer()
        stats = source._qmp_cmd(instance_id, "query-migrate")
        status = stats.get("status")
        if status == "completed":
            return stats
        if status in ("failed", "cancelled"):
            raise MigrationError(f"QEMU's migration {status}: {stats.get('error-desc', '')}")
        if status == "pre-switchover":
            for job in jobs:
                source._qmp_cmd(instance_id, "block-job-cancel", {"device": job})
            while set(jobs) & set(_jobs(source, instance_id)):
                time.sleep(0.01)
            for job in jobs:
                source._qmp_cmd(instance_id, "blockdev-del", {"node-name": "mig-" + job.removeprefix("mirror-")})
            source._qmp_cmd(instance_id, "migrate-continue", {"state": "pre-switchover"})
            return _completed(source, instance_id, deadline)
        if time.monotonic() > deadline:
            raise MigrationError("the migration did not complete in time")
        time.sleep(0.02)


def _completed(source: QemuDriver, instance_id: str, deadline: float) -> dict:
    """After ``migrate-continue``: QEMU's last steps of the move, which nothing stops."""
    while True:
        stats = source._qmp_cmd(instance_id, "query-migrate")
        if stats.get("status") == "completed":
            return stats
        if stats.get("status") in ("failed", "cancelled"):
            raise MigrationError(f"QEMU's migration {stats.get('status')}: {stats.get('error-desc', '')}")
        if time.monotonic() > deadline:
            raise MigrationError("the migration did not complete in time")
        time.sleep(0.02)


def recover_live_migration(source: QemuDriver, instance_id: str, dest: QemuDriver, resume: bool) -> bool:
    """What a process that died during :func:`live_migration` left: both QEMUs may run
    (QEMU goes on without its manager, and waits at ``pre-switchover`` for a
    ``migrate-continue`` that never comes).  The source's ``completed`` (or, source gone,
    a destination past ``inmigrate``): the guest is the destination's, finished there
    (resumed when ``resume``) and the source's ended; anything else is rolled back as a
    failed move.  Returns whether the guest now runs on ``dest``."""
    with source._lock(instance_id):
        here = source.pid(instance_id) is not None
        status = source._qmp_cmd(instance_id, "query-migrate").get("status") if here else None
        there = dest.pid(instance_id) is not None and (dest._dir(instance_id) / "guest.json").exists()
        if there and (status == "completed" or (not here and dest._status(instance_id) != "inmigrate")):
            with contextlib.suppress(QmpError):  # stopped already, if the process got that far
                dest._qmp_cmd(instance_id, "nbd-server-stop")
            if resume and dest._status(instance_id) != "running":
                dest._qmp_cmd(instance_id, "cont")
            source.destroy(instance_id)
            log.warning("live migration of %s to %s found switched over: finished", instance_id, dest.host)
            return True
        if here:
            jobs = [job for job in _jobs(source, instance_id) if job.startswith("mirror-")]
            _roll_back(source, instance_id, dest, jobs, "running" if resume else "paused")
        else:
            dest.destroy(instance_id)
        log.warning("live migration of %s to %s found unfinished: rolled back", instance_id, dest.host)
        return False


def _roll_back(source: QemuDriver, instance_id: str, dest: QemuDriver, jobs: list[str], was: str) -> None:
    """Back to the guest running on the source alone: QEMU's migration cancelled (past its
    ``cancelling``), the mirrors dropped (``force``: the target is thrown away), the
    destination QEMU ended and its directory removed, the source's vCPUs running again if
    they were."""
    deadline = time.monotonic() + 30
    with contextlib.suppress(QmpError):
        source._qmp_cmd(instance_id, "migrate_cancel")
        # QEMU's own ``cancelling`` until its migration thread has let go of the guest
        while source._qmp_cmd(instance_id, "query-migrate").get("status") == "cancelling" \
                and time.monotonic() < deadline:
            time.sleep(0.02)
    for job in jobs:
        with contextlib.suppress(QmpError):
            source._qmp_cmd(instance_id, "block-job-cancel", {"device": job, "force": True})
    with contextlib.suppress(QmpError):
        while set(jobs) & set(_jobs(source, instance_id)) and time.monotonic() < deadline:
            time.sleep(0.05)
    for job in jobs:
        with contextlib.suppress(QmpError):
            source._qmp_cmd(instance_id, "blockdev-del", {"node-name": "mig-" + job.removeprefix("mirror-")})
    dest.destroy(instance_id)
    with contextlib.suppress(QmpError):
        if was == "running" and source._status(instance_id) != "running":
            source._qmp_cmd(instance_id, "cont")
