"""Guest disks on a compute host: a cache of base images and per-server disk files.

Layout under the cache directory (shared by every guest on the host)::

    <cache>/<key>.<format>    an inspected, verified base image, read-only to guests
    <cache>/<key>.<format>.part  a download in progress (never used)
    <cache>/<key>.lock        held while the image is fetched or pruned

``key`` is the image's checksum when Glance gave one (content-addressed: two images with
the same bytes share a base) and its id otherwise.  A server's root disk is a qcow2 overlay
on its base, sized to the flavor; ephemeral and swap disks are sparse raw files formatted
like Nova formats them (ext4 labelled ``ephemeral0``, swap).

Every image is inspected **before** anything opens it as a disk: Nova and Glance have had
a series of CVEs (OSSA-2015-014, OSSA-2024-001 / CVE-2024-32498 and its follow-ups) where a
crafted image made QEMU or qemu-img open a host file, through a qcow2 backing file, a qcow2
external data file, or a VMDK extent, or where a file lied about its format so that the
format QEMU probed differed from the one declared.  :func:`inspect_image` refuses all of
those with a named :class:`UnsafeImage` error; qemu-img itself only runs with the format
given explicitly and under resource limits (a crafted image must not eat the host either).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import resource
import shutil
import struct
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

QEMU_IMG = "qemu-img"
#: What a guest disk may be once in the cache; VMDK is converted to qcow2 on the way in.
USABLE_FORMATS = ("raw", "qcow2")
#: VMDK subformats that keep all their data in the one file (no extents elsewhere).
SAFE_VMDK_CREATE_TYPES = ("monolithicSparse", "streamOptimized")
_INFO_LIMITS = {resource.RLIMIT_AS: 1 << 30, resource.RLIMIT_CPU: 30}  # Nova's qemu-img prlimits
_MAGIC = ((b"QFI\xfb", "qcow2"), (b"KDMV", "vmdk"), (b"# Disk DescriptorFile", "vmdk"), (b"QED\x00", "qed"),
          (b"conectix", "vpc"), (b"vhdxfile", "vhdx"), (b"LUKS\xba\xbe", "luks"))
_QCOW2_INCOMPAT_DATA_FILE = 1 << 2


class DiskError(Exception):
    """A disk could not be prepared."""


class UnsafeImage(DiskError):
    """The image must not be used: using it would read host files or trust a lie."""

    code = "unsafe_image"

    def __init__(self, image: str, reason: str):
        super().__init__(f"image {image} refused: {reason}")
        self.image, self.reason = image, reason


class ImageFormatMismatch(UnsafeImage):
    code = "image_format_mismatch"


class ImageBackingFile(UnsafeImage):
    code = "image_backing_file"


class ImageDataFile(UnsafeImage):
    code = "image_data_file"


class ImageExtentOutside(UnsafeImage):
    code = "image_extent_outside"


class UnsupportedImageFormat(UnsafeImage):
    code = "unsupported_image_format"


class ImageChecksumMismatch(DiskError):
    """The bytes downloaded are not the bytes Glance recorded."""


class FlavorDiskTooSmall(DiskError):
    """The image's virtual size does not fit the flavor's root disk (Nova's FlavorDiskSmallerThanImage)."""


@dataclass(frozen=True)
class ImageMeta:
    image_id: str
    disk_format: str
    checksum: str | None = None  # hex digest of the image bytes
    hash_algo: str = "md5"  # Glance's ``checksum`` is md5; ``os_hash_value`` uses ``os_hash_algo``


class ImageStore(Protocol):
    """Where base images come from (the Image service, or local files in tests)."""

    def image_meta(self, image_ref: str) -> ImageMeta: ...

    def download(self, image_ref: str, out: BinaryIO) -> None: ...


@dataclass(frozen=True)
class ImageFacts:
    format: str
    virtual_size: int
    actual_size: int


def _limits() -> None:
    for limit, value in _INFO_LIMITS.items():
        resource.setrlimit(limit, (value, value))


def _run(argv: list[str], limited: bool = False, timeout: float = 600) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False,
                              preexec_fn=_limits if limited else None)
    except subprocess.TimeoutExpired as exc:
        raise DiskError(f"{argv[0]} {argv[1]} timed out after {timeout:.0f}s") from exc
    if done.returncode != 0:
        raise DiskError(f"{' '.join(argv[:2])} failed: {done.stderr.strip() or done.returncode}")
    return done.stdout


def sniff_format(path: Path) -> str:
    """The format a file's header says it has (``raw`` when no known magic)."""
    with open(path, "rb") as f:
        head = f.read(512)
    for magic, fmt in _MAGIC:
        if head.startswith(magic):
            return fmt
    if head[64:68] == b"\x7f\x10\xda\xbe":
        return "vdi"
    if b"DiskDescriptorFile" in head[:64] or b"createType=" in head:
        return "vmdk"
    return "raw"


def _qcow2_header(path: Path, image: str) -> None:
    """Refuse a qcow2 that names another file, from its header alone (nothing opened yet)."""
    with open(path, "rb") as f:
        head = f.read(104)
    if len(head) < 72:
        raise ImageFormatMismatch(image, "truncated qcow2 header")
    version, backing_offset = struct.unpack(">IQ", head[4:16])
    if backing_offset:
        raise ImageBackingFile(image, "qcow2 has a backing file")
    if version >= 3 and len(head) >= 80:
        (incompatible,) = struct.unpack(">Q", head[72:80])
        if incompatible & _QCOW2_INCOMPAT_DATA_FILE:
            raise ImageDataFile(image, "qcow2 has an external data file")


def qemu_img_info(path: Path, fmt: str, force_share: bool = False) -> dict:
    """``qemu-img info`` with the format given (never probed) and under resource limits."""
    share = ["-U"] if force_share else []
    out = _run([QEMU_IMG, "info", *share, "--output=json", "-f", fmt, str(path)], limited=True, timeout=60)
    return json.loads(out)


def inspect_image(path: Path, declared_format: str, image: str | None = None) -> ImageFacts:
    """Check that ``path`` is safe to use as a disk of ``declared_format``; raise an
    :class:`UnsafeImage` subclass otherwise."""
    image = image or path.name
    sniffed = sniff_format(path)
    if sniffed != declared_format and not (declared_format == "iso" and sniffed == "raw"):
        raise ImageFormatMismatch(image, f"declared {declared_format} but the file is {sniffed}")
    if declared_format == "iso":
        declared_format = "raw"
    if declared_format not in ("raw", "qcow2", "vmdk"):
        raise UnsupportedImageFormat(image, f"disk_format {declared_format} is not supported")
    if declared_format == "qcow2":
        _qcow2_header(path, image)
    info = qemu_img_info(path, declared_format)
    if info.get("format") != declared_format:
        raise ImageFormatMismatch(image, f"qemu-img reads it as {info.get('format')}")
    if info.get("backing-filename") or info.get("full-backing-filename"):
        raise ImageBackingFile(image, f"backing file {info.get('backing-filename')!r}")
    specific = (info.get("format-specific") or {}).get("data") or {}
    if specific.get("data-file"):
        raise ImageDataFile(image, f"external data file {specific['data-file']!r}")
    if declared_format == "vmdk":
        create_type = specific.get("create-type")
        if create_type not in SAFE_VMDK_CREATE_TYPES:
            raise ImageExtentOutside(image, f"VMDK create-type {create_type!r} may keep data in other files")
        for extent in specific.get("extents") or []:
            if os.path.realpath(extent.get("filename", "")) != os.path.realpath(path):
                raise ImageExtentOutside(image, f"VMDK extent {extent.get('filename')!r} is another file")
    return ImageFacts(format=declared_format, virtual_size=int(info["virtual-size"]),
                      actual_size=int(info.get("actual-size") or 0))


class ImageCache:
    """Base images on this host, downloaded once, verified, inspected, then shared read-only."""

    def __init__(self, directory: Path, images: ImageStore):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.images = images
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    @staticmethod
    def key(meta: ImageMeta) -> str:
        return f"{meta.hash_algo}-{meta.checksum}" if meta.checksum else f"id-{meta.image_id}"

    def has(self, image_ref: str) -> bool:
        """Whether the base image of ``image_ref`` is in the cache already."""
        key = self.key(self.images.image_meta(image_ref))
        return any((self.directory / f"{key}.{usable}").exists() for usable in USABLE_FORMATS)

    def base(self, image_ref: str) -> tuple[Path, str]:
        """The cached base image of ``image_ref`` and its format, fetching it if needed.
        Concurrent fetches of one image (threads, or compute hosts sharing the cache
        directory) wait for each other on ``<key>.lock``."""
        meta = self.images.image_meta(image_ref)
        fmt = "raw" if meta.disk_format == "iso" else meta.disk_format
        key = self.key(meta)
        with self._lock(key), open(self.directory / f"{key}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            for usable in USABLE_FORMATS:
                cached = self.directory / f"{key}.{usable}"
                if cached.exists():
                    os.utime(cached)  # last used: what prune() goes by
                    return cached, usable
            part = self.directory / f"{key}.{fmt}.part"
            digest = hashlib.new(meta.hash_algo) if meta.checksum else None
            try:
                with open(part, "wb") as out:
                    self.images.download(image_ref, _Hashing(out, digest) if digest else out)  # type: ignore[arg-type]
                if digest is not None and digest.hexdigest() != meta.checksum:
                    raise ImageChecksumMismatch(f"image {image_ref}: downloaded {meta.hash_algo} "
                                                f"{digest.hexdigest()} is not the recorded {meta.checksum}")
                inspect_image(part, meta.disk_format, image_ref)
                if fmt == "vmdk":  # guests only ever see raw or qcow2
                    final = self.directory / f"{key}.qcow2"
                    converted = self.directory / f"{key}.qcow2.part"
                    convert(part, "vmdk", converted)
                    part.unlink()
                    part = converted
                    fmt = "qcow2"
                else:
                    final = self.directory / f"{key}.{fmt}"
                part.chmod(0o444)
                part.rename(final)
            finally:
                part.unlink(missing_ok=True)
            return final, fmt

    def prune(self, in_use: set[str], min_age: float) -> list[Path]:
        """Remove base images no guest uses (``in_use``: their paths) and unused for
        ``min_age`` seconds (Nova's ``remove_unused_original_minimum_age_seconds``)."""
        removed = []
        now = time.time()
        for entry in self.directory.iterdir():
            if entry.suffix not in (".raw", ".qcow2") or str(entry) in in_use:
                continue
            key = entry.name.rsplit(".", 1)[0]
            with self._lock(key), open(self.directory / f"{key}.lock", "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                with contextlib.suppress(FileNotFoundError):
                    if now - entry.stat().st_mtime >= min_age:
                        entry.unlink()
                        removed.append(entry)
        return removed


class _Hashing:
    """A file wrapper hashing what is written through it."""

    def __init__(self, out: BinaryIO, digest: "hashlib._Hash"):
        self._out, self._digest = out, digest

    def write(self, data: bytes) -> int:
        self._digest.update(data)
        return self._out.write(data)

    def flush(self) -> None:
        self._out.flush()


def convert(source: Path, source_format: str, dest: Path, force_share: bool = False) -> None:
    """A standalone qcow2 copy of ``source`` (its whole backing chain flattened)."""
    argv = [QEMU_IMG, "convert", "-f", source_format, "-O", "qcow2"]
    if force_share:
        argv.insert(2, "-U")
    _run(argv + [str(source), str(dest)])


def copy(source: Path, fmt: str, dest: Path) -> None:
    """A standalone copy of ``source`` in its own format, sparse (unwritten areas stay
    holes), a qcow2 overlay flattened with its backing chain: the copy needs no base image
    where it goes (a host with its own image cache that may never have fetched it)."""
    _run([QEMU_IMG, "convert", "-f", fmt, "-O", fmt, str(source), str(dest)])


def create_empty(dest: Path, fmt: str, size_bytes: int) -> None:
    """An empty disk of ``size_bytes`` (sparse raw, or qcow2): a live migration's
    destination disk, filled by the source's mirror."""
    _run([QEMU_IMG, "create", "-q", "-f", fmt, str(dest), str(size_bytes)])


def create_overlay(base: Path, base_format: str, dest: Path, size_gb: int, image: str = "") -> int:
    """A qcow2 overlay on ``base`` of ``size_gb`` (0: the image's own size); returns bytes."""
    facts = qemu_img_info(base, base_format)
    virtual = int(facts["virtual-size"])
    size = size_gb << 30 if size_gb else virtual
    if size < virtual:
        raise FlavorDiskTooSmall(f"image {image or base.name} is {virtual} bytes, larger than the "
                                 f"flavor's {size_gb} GiB root disk")
    _run([QEMU_IMG, "create", "-q", "-f", "qcow2", "-b", str(base), "-F", base_format, str(dest), str(size)])
    return size


def resize(path: Path, fmt: str, size_bytes: int) -> None:
    """Grow a disk (its guest stopped) to ``size_bytes``."""
    _run([QEMU_IMG, "resize", "-q", "-f", fmt, str(path), str(size_bytes)])


def _format_with(tool: list[str], path: Path) -> None:
    if shutil.which(tool[0]):
        _run(tool + [str(path)])


def create_blank(dest: Path, size_bytes: int, make_fs: Callable[[Path], None] | None = None) -> None:
    """A sparse raw disk, optionally formatted."""
    with open(dest, "wb") as f:
        f.truncate(size_bytes)
    if make_fs is not None:
        make_fs(dest)


def create_ephemeral(dest: Path, size_gb: int, label: str = "ephemeral0") -> None:
    """Nova's ephemeral disk: ext4 labelled ``ephemeral0`` (left blank when mkfs is missing)."""
    create_blank(dest, size_gb << 30, lambda p: _format_with(["mkfs.ext4", "-q", "-F", "-L", label], p))


def create_swap(dest: Path, size_mb: int) -> None:
    create_blank(dest, size_mb << 20, lambda p: _format_with(["mkswap"], p))
