"""The file backend writes images to volumes: raw with Python alone; any other format
through ``qemu-img`` — and without it, a clear error (README: "needs qemu-img")."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from pocketstack.volume.drivers.file import DriverError, FileDriver

GiB = 1024 ** 3


def test_raw_image_needs_no_qemu_img(tmp_path):
    driver = FileDriver(tmp_path, capacity_gb=10)
    driver.qemu_img = None
    driver.write_image("v1", [b"boot", b"-sector"], "raw", 1)
    data = driver.path("v1").read_bytes()[:11]
    assert data == b"boot-sector" and driver.path("v1").stat().st_size == GiB


def test_other_formats_without_qemu_img_fail_saying_what_to_install(tmp_path):
    driver = FileDriver(tmp_path, capacity_gb=10)
    driver.qemu_img = None
    with pytest.raises(DriverError, match="qemu-img is not installed .install qemu-utils."):
        driver.write_image("v1", [b"QFI\xfb"], "qcow2", 1)
    assert not driver.path("v1").exists()


@pytest.mark.skipif(shutil.which("qemu-img") is None, reason="qemu-img (qemu-utils) is not installed")
def test_qcow2_image_is_converted_with_qemu_img(tmp_path):
    raw = tmp_path / "src.raw"
    raw.write_bytes(b"guest data" + bytes(4096))
    qcow2 = tmp_path / "src.qcow2"
    subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(raw), str(qcow2)], check=True)
    driver = FileDriver(tmp_path / "volumes", capacity_gb=10)
    driver.write_image("v1", [qcow2.read_bytes()], "qcow2", 1)
    assert driver.path("v1").read_bytes()[:10] == b"guest data"
