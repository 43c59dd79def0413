#!/usr/bin/env python3
"""Backup and restore throughput of the volume backup engine vs. a ``cp`` + ``zstd`` pipeline.

A sparse 1 GiB raw volume is made with ``--random-mib`` of random data (incompressible,
the worst case for the compressor), ``--text-mib`` of compressible text and the rest
left as zeros/holes, as a lightly used volume looks.  Measured, as MB/s of *volume*
size (1 GiB / seconds):

  pocketstack backup    BackupStore.backup: 32 MiB chunks in a thread pool, holes
                        skipped, zstd level 3, SHA-256 per chunk (``--encrypt`` adds
                        AES-GCM)
  pocketstack restore   BackupStore.restore: verify every chunk, write sparse
  incremental           a second backup after changing one MiB: only that chunk is stored
  cp + zstd             ``cp --sparse=always`` then ``zstd -3 -T0`` of the copy (what an
                        operator would script), and ``zstd -d`` back

    python benchmarks/backup.py [--size-mib 1024] [--random-mib 256] [--text-mib 128] [--encrypt]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

from pocketstack.volume.backup import BackupStore

MiB = 1024 * 1024


def make_volume(path: Path, size_mib: int, random_mib: int, text_mib: int) -> None:
    with open(path, "wb") as fh:
        fh.truncate(size_mib * MiB)
        fh.seek(64 * MiB)
        for _ in range(random_mib):
            fh.write(os.urandom(MiB))
        fh.seek((size_mib // 2) * MiB)
        line = b"pocketstack block storage benchmark line of compressible text 0123456789\n"
        block = (line * (MiB // len(line) + 1))[:MiB]
        for _ in range(text_mib):
            fh.write(block)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--random-mib", type=int, default=256)
    parser.add_argument("--text-mib", type=int, default=128)
    parser.add_argument("--encrypt", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR", "/var/tmp")) as tmp:
        root = Path(tmp)
        volume = root / "volume"
        make_volume(volume, args.size_mib, args.random_mib, args.text_mib)
        store = BackupStore(root / "backups", os.urandom(32) if args.encrypt else None)
        mb = args.size_mib * MiB / 1e6
        rows = [("pocketstack backup", timed(lambda: store.backup(volume, "full")))]
        stored = sum(p.stat().st_size for p in (root / "backups" / "full").iterdir())
        rows.append(("pocketstack restore", timed(lambda: store.restore("full", root / "restored"))))
        with open(volume, "r+b") as fh:
            fh.seek(700 * MiB)
            fh.write(os.urandom(MiB))
        rows.append(("incremental backup", timed(lambda: store.backup(volume, "incr", parent_id="full"))))
        copy, archive = root / "copy", root / "copy.zst"
        rows.append(("cp + zstd -3 -T0", timed(lambda: (
            subprocess.run(["cp", "--sparse=always", str(volume), str(copy)], check=True),
            subprocess.run(["zstd", "-q", "-3", "-T0", "-f", str(copy), "-o", str(archive)], check=True)))))
        zstd_size = archive.stat().st_size
        rows.append(("zstd -d (restore)", timed(lambda: subprocess.run(
            ["zstd", "-q", "-d", "-f", "--sparse", str(archive), "-o", str(root / "unz")], check=True))))
        print(f"volume {args.size_mib} MiB ({args.random_mib} MiB random, {args.text_mib} MiB text), "
              f"encrypt={args.encrypt}, cpus={os.cpu_count()}")
        for name, seconds in rows:
            print(f"  {name:22s} {seconds:7.2f} s  {mb / seconds:8.0f} MB/s")
        print(f"  stored: pocketstack {stored / MiB:.1f} MiB, zstd {zstd_size / MiB:.1f} MiB")


if __name__ == "__main__":
    main()
