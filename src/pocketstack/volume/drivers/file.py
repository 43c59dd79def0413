"""The file backend: each volume is a sparse raw file under ``<data_dir>/volumes/``.

Snapshots and clones are real, sparse-preserving copies (runs of zeros become holes),
so data written to a volume survives snapshot → new volume → backup → restore.
Images in other formats than raw are converted with ``qemu-img`` when it is installed;
without it only raw images can be written to volumes, and that is said clearly.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from pocketstack.volume.drivers.base import Capabilities, Driver, GiB

COPY_CHUNK = 4 * 1024 * 1024


class DriverError(Exception):
    """The backend could not do what was asked; the message says why."""


def _is_zero(block: bytes) -> bool:
    return not block.strip(b"\0")


def data_extents(fd: int, size: int):
    """``(offset, length)`` of the regions of a file that hold data, found with
    SEEK_DATA/SEEK_HOLE so holes of a sparse volume are never even read."""
    offset = 0
    while offset < size:
        try:
            start = os.lseek(fd, offset, os.SEEK_DATA)
        except OSError:  # ENXIO: only a hole remains
            return
        end = os.lseek(fd, start, os.SEEK_HOLE)
        yield start, end - start
        offset = end


def sparse_copy(source: Path, target: Path, size: int) -> None:
    """Copy ``source`` into a new ``target`` of ``size`` bytes, leaving zero runs as holes."""
    tmp = target.with_suffix(".part")
    with open(source, "rb") as src, open(tmp, "wb") as dst:
        length = os.fstat(src.fileno()).st_size
        for start, extent in data_extents(src.fileno(), length):
            src.seek(start)
            dst.seek(start)
            while extent > 0 and (block := src.read(min(COPY_CHUNK, extent))):
                extent -= len(block)
                if _is_zero(block):
                    dst.seek(len(block), os.SEEK_CUR)
                else:
                    dst.write(block)
        dst.truncate(max(size, length))
    os.replace(tmp, target)


class FileDriver(Driver):
    name = "file"

    def __init__(self, root: Path, capacity_gb: int, backend_name: str = "file"):
        self.backend_name = backend_name
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.capacity_gb = capacity_gb
        self.qemu_img = shutil.which("qemu-img")

    def path(self, volume_id: str) -> Path:
        return self.root / f"volume-{volume_id}"

    def local_path(self, volume_id: str) -> Path:
        return self.path(volume_id)

    def snapshot_path(self, snapshot_id: str) -> Path:
        return self.root / f"snapshot-{snapshot_id}"

    def snapshot_local_path(self, snapshot_id: str) -> Path:
        return self.snapshot_path(snapshot_id)

    def create_volume(self, volume_id: str, size_gb: int) -> None:
        with open(self.path(volume_id), "wb") as fh:
            fh.truncate(size_gb * GiB)

    def delete_volume(self, volume_id: str) -> None:
        self.path(volume_id).unlink(missing_ok=True)

    def extend_volume(self, volume_id: str, size_gb: int) -> None:
        path = self.path(volume_id)
        if not path.exists():
            raise DriverError(f"volume data {path.name} is missing")
        with open(path, "r+b") as fh:
            fh.truncate(max(size_gb * GiB, os.fstat(fh.fileno()).st_size))

    def clone_volume(self, source_id: str, volume_id: str, size_gb: int) -> None:
        self._copy(self.path(source_id), self.path(volume_id), size_gb)

    def copy_in(self, source: Path, volume_id: str, size_gb: int) -> None:
        """The volume ``volume_id`` here, a copy of ``source`` (a file of another backend:
        a clone across backends, or a migration)."""
        self._copy(source, self.path(volume_id), size_gb)

    def create_snapshot(self, volume_id: str, snapshot_id: str) -> None:
        source = self.path(volume_id)
        self._copy(source, self.snapshot_path(snapshot_id), 0)

    def delete_snapshot(self, snapshot_id: str) -> None:
        self.snapshot_path(snapshot_id).unlink(missing_ok=True)


    def volume_from_snapshot(self, snapshot_id: str, volume_id: str, size_gb: int) -> None:
        self._copy(self.snapshot_path(snapshot_id), self.path(volume_id), size_gb)

    def _copy(self, source: Path, target: Path, size_gb: int) -> None:
        if not source.exists():
            raise DriverError(f"source data {source.name} is missing")
        sparse_copy(source, target, size_gb * GiB)

    def write_image(self, volume_id: str, chunks: Iterable[bytes], disk_format: str, size_gb: int) -> None:
        target = self.path(volume_id)
        if disk_format in (None, "", "raw"):
            self._write_raw(chunks, target, size_gb)
            return
        if not self.qemu_img:
            raise DriverError(f"cannot convert a {disk_format} image: qemu-img is not installed "
                              "(install qemu-utils) — only raw images can be written to volumes")
        with tempfile.NamedTemporaryFile(dir=self.root, prefix="image-", delete=True) as tmp:
            for chunk in chunks:
                tmp.write(chunk)
            tmp.flush()
            result = subprocess.run([self.qemu_img, "convert", "-f", disk_format, "-O", "raw", "-S", "4k",
                                     tmp.name, str(target)], capture_output=True, text=True)
            if result.returncode != 0:
                raise DriverError(f"qemu-img convert failed: {result.stderr.strip()}")
        self._check_fits(target, size_gb)
        with open(target, "r+b") as fh:
            fh.truncate(size_gb * GiB)

    @staticmethod
    def _check_fits(path: Path, size_gb: int) -> None:
        if path.stat().st_size > size_gb * GiB:
            path.unlink(missing_ok=True)
            raise DriverError(f"image data does not fit in a {size_gb} GiB volume")

    def _write_raw(self, chunks: Iterable[bytes], target: Path, size_gb: int) -> None:
        limit = size_gb * GiB
        written = 0
        with open(target, "wb") as fh:
            for chunk in chunks:
                written += len(chunk)
                if written > limit:
                    break
                if _is_zero(chunk):
                    fh.seek(len(chunk), os.SEEK_CUR)
                else:
                    fh.write(chunk)
            fh.truncate(limit)
        if written > limit:
            target.unlink(missing_ok=True)
            raise DriverError(f"image data does not fit in a {size_gb} GiB volume")

    def read_volume(self, volume_id: str, chunk_size: int) -> Iterator[bytes]:
        path = self.path(volume_id)
        if not path.exists():
            raise DriverError(f"volume data {path.name} is missing")
        with open(path, "rb") as fh:
            while block := fh.read(chunk_size):
                yield block

    def capabilities(self, allocated_gb: int) -> Capabilities:
        disk = shutil.disk_usage(self.root)
        used = sum(p.stat().st_blocks * 512 for p in self.root.iterdir() if p.is_file())
        return Capabilities(
            volume_backend_name=self.backend_name, vendor_name="pocketstack", driver_version="1.0",
            storage_protocol="file", total_capacity_gb=float(self.capacity_gb),
            free_capacity_gb=round(max(0.0, min(self.capacity_gb - allocated_gb, disk.free / GiB)), 2),
            allocated_capacity_gb=float(allocated_gb), thin_provisioning_support=True,
            thick_provisioning_support=False, QoS_support=False, multiattach=True,
            replication_enabled=False, online_extend_support=True,
            vendor={"pocketstack:sparse_files": True, "pocketstack:qcow2_support": bool(self.qemu_img),
                    "pocketstack:bytes_on_disk": used})
