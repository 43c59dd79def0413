"""Every compute driver implements the whole Driver interface, and the fake one keeps
volumes and snapshots the way the QEMU one does (tests/integration/test_qemu_driver.py)."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from pocketstack.compute.drivers.base import Driver, GuestSpec
from pocketstack.compute.drivers.fake import FakeDriver
from pocketstack.compute.drivers.qemu import QemuDriver

METHODS = [name for name, _ in inspect.getmembers(Driver, inspect.isfunction) if not name.startswith("_")]


@pytest.mark.parametrize("cls", [FakeDriver, QemuDriver])
def test_every_driver_method_is_implemented_with_the_same_parameters(cls: type[Driver]) -> None:
    for name in METHODS:
        impl = getattr(cls, name)
        assert impl is not getattr(Driver, name), f"{cls.__name__}.{name} is not implemented"
        assert list(inspect.signature(impl).parameters) == list(inspect.signature(getattr(Driver, name)).parameters)


def test_fake_volumes_and_snapshot_file(tmp_path: Path) -> None:
    driver = FakeDriver("h", 4, 4096, 40)
    driver.spawn(GuestSpec("i-1", "vm", 1, 512, 1, "img", {"sockets": 1, "cores": 1, "threads": 1}))
    driver.attach_volume("i-1", "/dev/null", "vol-1")
    assert "disk vol-1 attached" in driver.console_output("i-1")
    driver.detach_volume("i-1", "vol-1")
    driver.detach_volume("i-1", "vol-1")  # not attached: nothing to do
    assert driver.console_output("i-1").count("disk vol-1 detached") == 1
    assert driver.snapshot_to("i-1", str(tmp_path / "snap")) == "raw"
    assert (tmp_path / "snap").read_bytes() == b"fake disk of i-1\n"
