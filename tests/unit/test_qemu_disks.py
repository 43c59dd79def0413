"""Image inspection and guest disks of the QEMU driver, on images made by the real qemu-img.

The unsafe images are the shapes of the Nova/Glance CVEs (OSSA-2024-001 / CVE-2024-32498 and
relatives): a qcow2 whose backing file or external data file is a host file, a file whose
content is not the format it is declared as, a VMDK whose extent is another host file.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import BinaryIO

import pytest

from pocketstack.compute.drivers import disks

from support import require_tools


@pytest.fixture(autouse=True)
def _qemu_img_installed() -> None:
    require_tools({"qemu-img": "qemu-utils", "mkswap": "util-linux", "mkfs.ext4": "e2fsprogs"},
                  "image inspection")


def qemu_img(*args: str) -> str:
    return subprocess.run(["qemu-img", *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def qcow2(tmp_path: Path) -> Path:
    path = tmp_path / "good.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", str(path), "64M")
    return path


def test_a_plain_qcow2_and_raw_are_accepted(tmp_path: Path, qcow2: Path) -> None:
    facts = disks.inspect_image(qcow2, "qcow2")
    assert (facts.format, facts.virtual_size) == ("qcow2", 64 << 20)
    raw = tmp_path / "good.raw"
    raw.write_bytes(b"\0" * 4096)
    assert disks.inspect_image(raw, "raw").virtual_size == 4096


def test_qcow2_with_a_backing_file_on_the_host_is_refused(tmp_path: Path) -> None:
    evil = tmp_path / "evil.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", "-b", "/etc/passwd", "-F", "raw", str(evil), "1M")
    with pytest.raises(disks.ImageBackingFile, match="backing file"):
        disks.inspect_image(evil, "qcow2", "img-1")


def test_qcow2_with_an_external_data_file_is_refused(tmp_path: Path) -> None:
    evil = tmp_path / "datafile.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", "-o", f"data_file={tmp_path / 'host-data'}", str(evil), "1M")
    assert json.loads(qemu_img("info", "--output=json", str(evil)))["format-specific"]["data"]["data-file"]
    with pytest.raises(disks.ImageDataFile, match="external data file"):
        disks.inspect_image(evil, "qcow2")


def test_raw_file_claiming_to_be_qcow2_is_refused(tmp_path: Path) -> None:
    liar = tmp_path / "liar"
    liar.write_bytes(b"just some bytes\n" * 256)
    with pytest.raises(disks.ImageFormatMismatch, match="declared qcow2 but the file is raw"):
        disks.inspect_image(liar, "qcow2")


def test_qcow2_declared_raw_is_refused(tmp_path: Path) -> None:
    # The OSSA-2024-001 shape: a "raw" upload that is really a qcow2 naming a host file;
    # used as raw it is harmless, but anything that probes it would follow the backing file.
    evil = tmp_path / "evil.raw"
    qemu_img("create", "-q", "-f", "qcow2", "-b", "/etc/passwd", "-F", "raw", str(evil), "1M")
    with pytest.raises(disks.ImageFormatMismatch, match="declared raw but the file is qcow2"):
        disks.inspect_image(evil, "raw")


def test_vmdk_with_an_extent_on_the_host_is_refused(tmp_path: Path) -> None:
    descriptor = tmp_path / "evil.vmdk"
    descriptor.write_text('# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\n'
                          'createType="monolithicFlat"\n\n# Extent description\n'
                          'RW 8 FLAT "/etc/hostname" 0\n\nddb.virtualHWVersion = "4"\n')
    with pytest.raises(disks.ImageExtentOutside):
        disks.inspect_image(descriptor, "vmdk")


def test_a_monolithic_vmdk_is_accepted(tmp_path: Path) -> None:
    vmdk = tmp_path / "ok.vmdk"
    qemu_img("create", "-q", "-f", "vmdk", str(vmdk), "8M")
    assert disks.inspect_image(vmdk, "vmdk").virtual_size == 8 << 20


def test_unsupported_formats_are_refused(tmp_path: Path) -> None:
    vdi = tmp_path / "disk.vdi"
    qemu_img("create", "-q", "-f", "vdi", str(vdi), "8M")
    with pytest.raises(disks.UnsupportedImageFormat, match="disk_format vdi is not supported"):
        disks.inspect_image(vdi, "vdi")
    with pytest.raises(disks.ImageFormatMismatch, match="declared raw but the file is vdi"):
        disks.inspect_image(vdi, "raw")


class Images:
    """An image store of local files."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[Path, str]] = {}
        self.downloads = 0

    def add(self, image_id: str, path: Path, fmt: str) -> None:
        self.files[image_id] = (path, fmt)

    def image_meta(self, image_ref: str) -> disks.ImageMeta:
        path, fmt = self.files[image_ref]
        return disks.ImageMeta(image_ref, fmt, hashlib.md5(path.read_bytes()).hexdigest())

    def download(self, image_ref: str, out: BinaryIO) -> None:
        self.downloads += 1
        out.write(self.files[image_ref][0].read_bytes())


def test_cache_is_content_addressed_and_refuses_unsafe_images(tmp_path: Path, qcow2: Path) -> None:
    images = Images()
    images.add("a", qcow2, "qcow2")
    images.add("b", qcow2, "qcow2")  # same bytes, another image
    evil = tmp_path / "evil.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", "-b", "/etc/passwd", "-F", "raw", str(evil), "1M")
    images.add("evil", evil, "qcow2")
    cache = disks.ImageCache(tmp_path / "cache", images)
    base_a, fmt = cache.base("a")
    assert fmt == "qcow2" and base_a.exists()
    assert cache.base("b")[0] == base_a and images.downloads == 1
    with pytest.raises(disks.ImageBackingFile):
        cache.base("evil")
    kept = sorted(p.name for p in (tmp_path / "cache").iterdir() if p.suffix != ".lock")
    assert kept == [base_a.name]  # nothing of evil kept


def test_overlay_is_sized_to_the_flavor_and_backed_by_the_base(tmp_path: Path, qcow2: Path) -> None:
    overlay = tmp_path / "disk"
    assert disks.create_overlay(qcow2, "qcow2", overlay, 1) == 1 << 30
    info = json.loads(qemu_img("info", "--output=json", str(overlay)))
    assert info["virtual-size"] == 1 << 30 and info["backing-filename"] == str(qcow2)
    big = tmp_path / "big.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", str(big), "2G")
    with pytest.raises(disks.FlavorDiskTooSmall):
        disks.create_overlay(big, "qcow2", tmp_path / "disk2", 1)


def test_swap_and_ephemeral_disks_are_formatted(tmp_path: Path) -> None:
    disks.create_swap(tmp_path / "swap", 16)
    disks.create_ephemeral(tmp_path / "eph", 1)
    assert (tmp_path / "swap").stat().st_size == 16 << 20
    if shutil.which("mkswap"):
        assert b"SWAPSPACE2" in (tmp_path / "swap").read_bytes()[:8192]
    if shutil.which("mkfs.ext4"):
        with open(tmp_path / "eph", "rb") as f:
            f.seek(1024 + 56)
            assert f.read(2) == b"\x53\xef"  # ext superblock magic


def test_a_download_that_is_not_the_recorded_bytes_is_refused(tmp_path: Path, qcow2: Path) -> None:
    class Lying(Images):
        def image_meta(self, image_ref: str) -> disks.ImageMeta:
            return disks.ImageMeta(image_ref, "qcow2", "0" * 32)

    images = Lying()
    images.add("a", qcow2, "qcow2")
    cache = disks.ImageCache(tmp_path / "cache", images)
    with pytest.raises(disks.ImageChecksumMismatch, match="is not the recorded 0000"):
        cache.base("a")
    assert [p for p in (tmp_path / "cache").iterdir() if p.suffix != ".lock"] == []


def test_prune_removes_only_unused_bases_old_enough(tmp_path: Path, qcow2: Path) -> None:
    images = Images()
    images.add("a", qcow2, "qcow2")
    raw = tmp_path / "b.raw"
    raw.write_bytes(b"\1" * 4096)
    images.add("b", raw, "raw")
    cache = disks.ImageCache(tmp_path / "cache", images)
    (base_a, _), (base_b, _) = cache.base("a"), cache.base("b")
    assert cache.prune({str(base_a)}, min_age=3600) == []  # b is unused but fresh
    assert cache.prune({str(base_a)}, min_age=0) == [base_b]
    assert base_a.exists() and not base_b.exists()
