"""``hypervisor = "qemu"``: the compute hosts of a process are QEMU hosts of this machine.

A cloud built with the QEMU hypervisor runs one host named after the machine, registers
the machine's real CPUs, memory and disk in Placement with the allocation ratios of the
settings, gets a QEMU driver back for a host known only from the database, and closes
its drivers on shutdown.  No guest is booted here (tests/integration/test_qemu_guests.py
does); QEMU must be installed because the driver asks it its version.
"""

from __future__ import annotations

import os
import shutil
import socket

import pytest

from pocketstack.common import config
from pocketstack.compute.drivers.fake import FakeDriver
from pocketstack.compute.drivers.qemu import QemuDriver
from pocketstack.compute.hosts import Hosts, host_uuid

from support import require_tools


@pytest.fixture
def qemu_cloud(tmp_path):
    require_tools({"qemu-system-x86_64": "qemu-system-x86", "qemu-img": "qemu-utils"}, "the QEMU driver")
    from pocketstack.cloud import Cloud

    settings = config.load(overrides={"data_dir": tmp_path / "data", "bcrypt_rounds": 4, "hypervisor": "qemu",
                                      "qemu_accel": "tcg", "cpu_allocation_ratio": 3.0,
                                      "clouds_file": str(tmp_path / "clouds.yaml")}, environ={})
    cloud = Cloud(settings)
    yield cloud
    cloud.close()


def test_one_real_host_named_after_the_machine_with_real_inventory(qemu_cloud):
    hosts = qemu_cloud.service("compute").manager.hosts
    assert hosts.local_hosts() == [socket.gethostname()]
    hosts.register_local_hosts()
    host = socket.gethostname()
    driver = hosts.driver(host)
    assert isinstance(driver, QemuDriver)
    assert driver.state_dir == qemu_cloud.settings.data_dir / "qemu" / host
    node = hosts.by_host(host)
    assert node.hypervisor_type == "QEMU"
    assert node.vcpus == len(os.sched_getaffinity(0))
    assert node.local_gb == shutil.disk_usage(driver.state_dir).total >> 30
    _, inventories = qemu_cloud.placement.providers.inventories(host_uuid(host))
    assert inventories["VCPU"]["total"] == node.vcpus and inventories["VCPU"]["allocation_ratio"] == 3.0
    assert inventories["MEMORY_MB"]["allocation_ratio"] == 1.0
    assert inventories["DISK_GB"]["allocation_ratio"] == 1.0


def test_a_host_known_only_from_the_database_gets_a_qemu_driver_back(qemu_cloud):
    hosts = qemu_cloud.service("compute").manager.hosts
    hosts.register_local_hosts()
    host = socket.gethostname()
    first = hosts.driver(host)
    hosts.close()  # as at shutdown: the next use re-attaches on the same state directory
    again = hosts.driver(host)
    assert isinstance(again, QemuDriver) and again is not first
    assert again.state_dir == first.state_dir


def test_unknown_hypervisor_is_refused(tmp_path):
    settings = config.load(overrides={"data_dir": tmp_path, "hypervisor": "xen"}, environ={})
    with pytest.raises(ValueError, match="hypervisor"):
        Hosts(None, None, settings)  # type: ignore[arg-type]


def test_qemu_hosts_runs_further_hosts_each_on_its_own_directory(tmp_path):
    require_tools({"qemu-system-x86_64": "qemu-system-x86", "qemu-img": "qemu-utils"}, "the QEMU driver")
    settings = config.load(overrides={"data_dir": tmp_path, "hypervisor": "qemu", "qemu_accel": "tcg",
                                      "qemu_hosts": 3}, environ={})
    name = socket.gethostname()
    hosts = Hosts(None, None, settings)  # type: ignore[arg-type]
    assert hosts.local_hosts() == [name, f"{name}-2", f"{name}-3"]
    assert len({settings.qemu_state_path(h) for h in hosts.local_hosts()}) == 3
    for wrong in ({"qemu_hosts": 0}, {"qemu_hosts": 2, "qemu_state_dir": str(tmp_path / "one")}):
        settings = config.load(overrides={"data_dir": tmp_path, "hypervisor": "qemu", **wrong}, environ={})
        with pytest.raises(ValueError, match="qemu_hosts"):
            Hosts(None, None, settings)  # type: ignore[arg-type]


def test_fake_remains_the_default(api, cloud):
    hosts = cloud.service("compute").manager.hosts
    assert cloud.settings.hypervisor == "fake"
    assert hosts.local_hosts() == ["compute-1", "compute-2"]
    assert isinstance(hosts.driver("compute-1"), FakeDriver)
