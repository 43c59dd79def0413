#!/usr/bin/env python3
"""Live migration of a real guest: total time and downtime, as QEMU measures them.

Two QEMU hosts (:class:`~pocketstack.compute.drivers.qemu.QemuDriver`, each on its own
state directory, storage not shared) in this process; the tiny image (``--image``, a
qcow2 from ``pocketstack image build-tiny``; default: the tests' cached one) boots on the
first with ``--memory`` MiB; once it is at its login prompt it is live-migrated back and
forth ``--rounds`` times, its root disk mirrored each time.  Printed per round, from
``query-migrate`` of the source QEMU and the driver:

  total      QEMU's ``total-time``: migration start to completion (RAM and device state)
  downtime   QEMU's ``downtime``: the guest's vCPUs stopped (switch-over, the disk
             mirrors completed in it)
  disk sync  the disk mirrors' bulk copy before QEMU's migration starts
  elapsed    the whole driver call (destination started, disks mirrored, migrated,
             source ended)

Then that the guest kept its boot (one login prompt on its console) and a cold migration
(stop, disks copied, start) for comparison.  Run it through /work/notes/heavy here.

    .venv/bin/python benchmarks/live_migration.py --rounds 3
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import BinaryIO

from pocketstack.compute.drivers.base import GuestSpec
from pocketstack.compute.drivers.disks import ImageMeta
from pocketstack.compute.drivers.qemu import QemuDriver

LOGIN = b" login: "


class FileImages:
    """Base images from local files (the image id is the path)."""

    def image_meta(self, image_ref: str) -> ImageMeta:
        digest = hashlib.sha256(Path(image_ref).read_bytes()).hexdigest()
        return ImageMeta(image_ref, "qcow2", digest, "sha256")

    def download(self, image_ref: str, out: BinaryIO) -> None:
        with open(image_ref, "rb") as f:
            shutil.copyfileobj(f, out)


def default_image() -> Path:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from tinyimage import tiny_image_path

    return tiny_image_path()


def wait_login(driver: QemuDriver, instance_id: str, count: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while driver.console_output(instance_id).encode().count(LOGIN) < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"no login prompt #{count} within {timeout:.0f}s")
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", type=Path)
    parser.add_argument("--memory", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--accel", default=os.environ.get("POCKETSTACK_TEST_ACCEL", "tcg"))
    args = parser.parse_args()
    image = args.image or default_image()
    with tempfile.TemporaryDirectory(prefix="bench-lm-") as tmp:
        hosts = [QemuDriver(name, Path(tmp) / name, FileImages(), accel=args.accel, shutdown_timeout=30)
                 for name in ("bench-a", "bench-b")]
        spec = GuestSpec("bench-guest", "bench", 1, args.memory, 1, str(image), {"sockets": 1, "cores": 1,
                                                                                 "threads": 1})
        try:
            started = time.monotonic()
            hosts[0].spawn(spec)
            wait_login(hosts[0], spec.instance_id, 1)
            print(f"accel {hosts[0].accel}, {args.memory} MiB guest at its login prompt in "
                  f"{time.monotonic() - started:.1f}s; load {os.getloadavg()[0]:.2f}")
            totals, downtimes = [], []
            for n in range(args.rounds):
                source, dest = hosts[n % 2], hosts[(n + 1) % 2]
                source.live_migration(spec, dest)
                got = source.migrations[spec.instance_id]
                totals.append(got["total-time"])
                downtimes.append(got["downtime"])
                print(f"round {n + 1} {source.host} -> {dest.host}: total {got['total-time']} ms, downtime "
                      f"{got['downtime']} ms, RAM {got['ram-bytes'] / 2**20:.1f} MiB, disk sync "
                      f"{got['disk-sync-s']:.2f}s ({got['disk-bytes'] / 2**20:.1f} MiB), elapsed "
                      f"{got['elapsed-s']:.2f}s; load {os.getloadavg()[0]:.2f}")
            where = hosts[args.rounds % 2]
            console = where.console_output(spec.instance_id).encode()
            print(f"login prompts on the console: {console.count(LOGIN)} (1: the same boot throughout)")
            print(f"median total {statistics.median(totals)} ms, median downtime {statistics.median(downtimes)} ms")
            other = hosts[(args.rounds + 1) % 2]
            started = time.monotonic()
            where.migrate_disk_and_power_off(spec.instance_id, other)
            other.finish_migration(spec, power_on=True)
            where.confirm_migration(spec.instance_id)
            print(f"cold migration (ACPI stop, copy, start): {time.monotonic() - started:.1f}s")
        finally:
            for host in hosts:
                host.destroy(spec.instance_id)
                host.close()


if __name__ == "__main__":
    main()
