#!/usr/bin/env python3
"""Backup and restore throughput of the volume backup engine vs. a ``cp`` + ``zstd`` pipeline.

A sparse 1 GiB raw volume is made with ``--random-mib`` of random data (incompressible,
the worst case for the compressor), ``--text-mib`` of compressible text and the rest
left as zeros/holes, as a lightly used volume looks.  Measured, as MB/s of *volume*
size (1 GiB / seconds):

  pocketstack backup    BackupStore.backup: 32 MiB chunks in a thread pool, holes
                        skipped, zstd level 3, SHA-256 per chunk (``--encrypt`` adds
                        AES-GCM), into each ``--store``: a directory, and the object
                        store (3 devices, 3 replicas, quorum writes, in process)
  pocketstack restore   BackupStore.restore: verify every chunk, write sparse
  incremental           a second backup after changing one MiB: only that chunk is stored
  cp + zstd             ``cp --sparse=always`` then ``zstd -3 -T0`` of the copy (what an
                        operator would script), and ``zstd -d`` back

    python benchmarks/backup.py [--size-mib 1024] [--random-mib 256] [--text-mib 128] [--encrypt]
                                [--store directory|object|both]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pocketstack.object.layout import Cluster
from pocketstack.object.rings import ensure_cluster
from pocketstack.object.store import ObjectStore
from pocketstack.volume.backup import BackupStore
from pocketstack.volume.backup_stores import BackupRef, DirectoryChunks, ObjectChunks

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


def object_chunks(root: Path) -> tuple[ObjectChunks, ThreadPoolExecutor]:
    """The object store as the cloud builds it (3 devices, 3 replicas, quorum writes)."""
    suffix = ensure_cluster(root, devices=3, replicas=3, part_power=8, port=6200)
    pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="object-io")
    store = ObjectStore(Cluster(root, suffix), pool)
    return ObjectChunks(lambda: store), pool


def disk_use(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def run_store(name: str, chunks, root: Path, volume: Path, key: bytes | None, size_mib: int) -> list:
    store = BackupStore(chunks, key)
    mb = size_mib * MiB / 1e6
    full, incr = BackupRef("full", "bench"), BackupRef("incr", "bench")
    rows = [(f"{name}: backup", timed(lambda: store.backup(volume, full)))]
    stored = disk_use(root)
    rows.append((f"{name}: restore", timed(lambda: store.restore(full, root.parent / f"restored-{name}"))))
    with open(volume, "r+b") as fh:
        fh.seek(700 * MiB)
        fh.write(os.urandom(MiB))
    rows.append((f"{name}: incremental", timed(lambda: store.backup(volume, incr, full))))
    for label, seconds in rows:
        print(f"  {label:28s} {seconds:7.2f} s  {mb / seconds:8.0f} MB/s")
    print(f"  {name}: on disk after the full backup {stored / MiB:.1f} MiB")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--random-mib", type=int, default=256)
    parser.add_argument("--text-mib", type=int, default=128)
    parser.add_argument("--encrypt", action="store_true")
    parser.add_argument("--store", choices=("directory", "object", "both"), default="both")
    args = parser.parse_args()
    key = os.urandom(32) if args.encrypt else None
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR", "/var/tmp")) as tmp:
        root = Path(tmp)
        volume = root / "volume"
        make_volume(volume, args.size_mib, args.random_mib, args.text_mib)
        mb = args.size_mib * MiB / 1e6
        print(f"volume {args.size_mib} MiB ({args.random_mib} MiB random, {args.text_mib} MiB text), "
              f"encrypt={args.encrypt}, cpus={os.cpu_count()}")
        if args.store in ("directory", "both"):
            run_store("directory", DirectoryChunks(root / "backups"), root / "backups", volume, key, args.size_mib)
            make_volume(volume, args.size_mib, args.random_mib, args.text_mib)  # undo the incremental's change
        if args.store in ("object", "both"):
            chunks, pool = object_chunks(root / "object")
            try:
                run_store("object (3 replicas)", chunks, root / "object", volume, key, args.size_mib)
            finally:
                pool.shutdown()
        copy, archive = root / "copy", root / "copy.zst"
        rows = [("cp + zstd -3 -T0", timed(lambda: (
            subprocess.run(["cp", "--sparse=always", str(volume), str(copy)], check=True),
            subprocess.run(["zstd", "-q", "-3", "-T0", "-f", str(copy), "-o", str(archive)], check=True))))]
        rows.append(("zstd -d (restore)", timed(lambda: subprocess.run(
            ["zstd", "-q", "-d", "-f", "--sparse", str(archive), "-o", str(root / "unz")], check=True))))
        for name, seconds in rows:
            print(f"  {name:28s} {seconds:7.2f} s  {mb / seconds:8.0f} MB/s")
        print(f"  zstd archive {archive.stat().st_size / MiB:.1f} MiB")


if __name__ == "__main__":
    main()
