"""Compute hosts: the nova-compute services, their hypervisors, their drivers.

Each host is one ``compute_node`` row (service and hypervisor share it) and one
Placement resource provider with the same UUID holding its VCPU / MEMORY_MB / DISK_GB
inventory.  Host UUIDs are derived from the host name, so re-registering a host after a
restart finds the same provider and the same allocations.

With ``hypervisor = "qemu"`` a host's driver is a
:class:`~pocketstack.compute.drivers.qemu.QemuDriver` on its state directory (made, or
re-attached to the guests that kept running, on first use), its inventory is the
machine's real CPUs, memory and disk with the allocation ratios of the settings, and the
all-in-one cloud runs one host named after the machine.

A host is *up* while the process running it is a live member of the compute liveness
group (:mod:`pocketstack.common.heartbeat`) and an operator has not forced it down.
"""

from __future__ import annotations

import logging
import socket
import threading
import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from pocketstack.common.config import Settings
from pocketstack.common.db import Database, utcnow
from pocketstack.common.heartbeat import Liveness
from pocketstack.compute import errors
from pocketstack.compute.drivers.base import Driver
from pocketstack.compute.drivers.fake import FakeDriver
from pocketstack.compute.drivers.fake_machine import MachineFile
from pocketstack.compute.models import ComputeNode
from pocketstack.compute.resources import Placement

LOG = logging.getLogger(__name__)
HYPERVISORS = ("fake", "qemu")
_NAMESPACE = uuid.UUID("6f1c1e4e-3a49-4b4e-9a57-1d0d1ab0c0de")


def host_uuid(host: str, kind: str = "node") -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{host}"))


class Hosts:
    def __init__(self, db: Database, placement: Placement, settings: Settings,
                 image_service: Callable[[], Any] = lambda: None):
        if settings.hypervisor not in HYPERVISORS:
            raise ValueError(f"setting 'hypervisor': {settings.hypervisor!r} is not one of {', '.join(HYPERVISORS)}")
        if settings.qemu_hosts < 1 or (settings.qemu_hosts > 1 and settings.qemu_state_dir):
            raise ValueError("setting 'qemu_hosts': at least 1, and more than 1 only with 'qemu_state_dir' empty "
                             "(each host needs its own state directory)")
        self.db = db
        # -> the image contract (``cloud.image``): where a QEMU host gets its base images
        self.image_service = image_service
        self.placement = placement
        self.settings = settings
        self._drivers: dict[str, Driver] = {}
        self._running: set[str] = set()  # the hosts this process runs (not only knows)
        self._lock = threading.Lock()
        # Set when the service starts; without it (no coordination) every host is up.
        self.liveness: Liveness | None = None
        # Called with each host this process starts running (the compute worker serves it).
        self.on_added: list[Callable[[str], None]] = []

    def local_hosts(self) -> list[str]:
        """The hosts this process runs: ``compute_host``, or the all-in-one's fake hosts
        (with QEMU: this machine's name, and ``qemu_hosts`` - 1 more after it)."""
        s = self.settings
        if s.compute_host:
            return [s.compute_host]
        if s.hypervisor == "qemu":
            name = socket.gethostname()
            return [name] + [f"{name}-{i}" for i in range(2, s.qemu_hosts + 1)]
        return [f"compute-{i}" for i in range(1, s.fake_hosts + 1)]

    def register_local_hosts(self) -> None:
        s = self.settings
        for host in self.local_hosts():
            if s.hypervisor == "qemu":
                self.add_qemu_host(host)
            else:
                self.add_fake_host(host, s.fake_host_vcpus, s.fake_host_memory_mb, s.fake_host_disk_gb)

    @property
    def real(self) -> bool:
        """Whether this process's hosts run real guests."""
        return self.settings.hypervisor == "qemu"

    def _qemu_driver(self, host: str) -> Driver:
        from pocketstack.compute.drivers.glance import ImageServiceStore
        from pocketstack.compute.drivers.qemu import QemuDriver

        s = self.settings
        return QemuDriver(host, s.qemu_state_path(host), ImageServiceStore(self.image_service),
                          accel=s.qemu_accel or None, shutdown_timeout=s.shutdown_timeout,
                          vnc_listen=s.vnc_server_listen, nic_backend=self._nic_backend(),
                          live_migration_bandwidth=s.live_migration_bandwidth)

    def _nic_backend(self):
        """Guests' NICs where the network datapath plugs them: the linux datapath's taps."""
        s = self.settings
        if s.network_datapath != "linux":
            return None
        from pocketstack.compute.drivers.vifs import TapPlugger

        return TapPlugger(f"{s.network_datapath_prefix}host")

    def add_qemu_host(self, host: str, availability_zone: str = "nova") -> ComputeNode:
        """Run ``host`` on this machine with real guests (re-attaching to those still running)."""
        with self._lock:
            driver = self._drivers.get(host)
        if driver is None:
            driver = self._qemu_driver(host)
            with self._lock:
                driver = self._drivers.setdefault(host, driver)
        node = self._register(driver, availability_zone)
        for callback in self.on_added:
            callback(host)
        return node

    def close(self) -> None:
        """Stop talking to the guests (they keep running); drivers are made again on use."""
        with self._lock:
            drivers, self._drivers = list(self._drivers.values()), {}
        for driver in drivers:
            close = getattr(driver, "close", None)
            if close is not None:
                close()

    def is_up(self, node: ComputeNode) -> bool:
        if node.forced_down:
            return False
        return self.liveness is None or node.host in self.liveness.alive()

    def add_fake_host(self, host: str, vcpus: int, memory_mb: int, disk_gb: int,
                      availability_zone: str = "nova") -> ComputeNode:
        driver = FakeDriver(host, vcpus, memory_mb, disk_gb, delay=self.settings.fake_op_delay)
        driver.move_time = self.settings.fake_live_migration_time
        with self._lock:
            self._drivers[host] = driver
            self._running.add(host)
        if self.settings.compute_host:  # scaled out: this process is the host's machine
            self.machine(host).claim()
        node = self._register(driver, availability_zone)
        for callback in self.on_added:
            callback(host)
        return node

    def runs(self, host: str) -> bool:
        """Whether this process runs fake host ``host`` (its guests live here)."""
        with self._lock:
            return host in self._running

    def machine(self, host: str) -> MachineFile:
        """The simulated machine of fake host ``host`` as other processes of this machine
        see it (:mod:`~pocketstack.compute.drivers.fake_machine`)."""
        return MachineFile(self.settings.data_dir / "fake" / f"{host}.machine")

    def release_machines(self) -> None:
        """A clean stop of this process: its fake hosts' machines cannot be read any more."""
        with self._lock:
            running = sorted(self._running)
        for host in running:
            self.machine(host).release()

    def _register(self, driver: Driver, availability_zone: str) -> ComputeNode:
        res = driver.resources()
        node_id = host_uuid(driver.host)
        values = dict(vcpus=res.vcpus, memory_mb=res.memory_mb, local_gb=res.disk_gb,
                      hypervisor_type=res.hypervisor_type, availability_zone=availability_zone, updated_at=utcnow())
        try:
            with self.db.session() as s:
                node = s.get(ComputeNode, node_id)
                if node is None:
                    s.add(ComputeNode(id=node_id, service_id=host_uuid(driver.host, "service"), host=driver.host,
                                      **values))
                else:  # its zone now belongs to the host aggregates (aggregates.py)
                    values.pop("availability_zone")
                    for key, value in values.items():
                        setattr(node, key, value)
        except sa_exc.IntegrityError:  # another process registered it at the same moment
            pass
        ratios = (1.0, 1.0, 1.0)  # a fake host's inventory is what it was told it has
        if res.hypervisor_type != "fake":
            conf = self.settings
            ratios = (conf.cpu_allocation_ratio, conf.ram_allocation_ratio, conf.disk_allocation_ratio)
        self.placement.ensure_provider(node_id, driver.host, {
            "VCPU": {"total": res.vcpus, "allocation_ratio": ratios[0]},
            "MEMORY_MB": {"total": res.memory_mb, "allocation_ratio": ratios[1]},
            "DISK_GB": {"total": res.disk_gb, "allocation_ratio": ratios[2]},
        }, traits=sorted(res.traits))
        return self.get(node_id)

    def driver(self, host: str) -> Driver:
        """The driver of ``host``; a host known only from the database (registered by an
        earlier run) gets its driver back on first use (a QEMU one re-attaches to its guests)."""
        with self._lock:
            driver = self._drivers.get(host)
        if driver is None:
            node = self.by_host(host)
            if self.real:
                driver = self._qemu_driver(host)
            else:
                driver = FakeDriver(host, node.vcpus, node.memory_mb, node.local_gb,
                                    delay=self.settings.fake_op_delay)
                driver.move_time = self.settings.fake_live_migration_time
            with self._lock:
                driver = self._drivers.setdefault(host, driver)
        return driver

    def list(self) -> list[ComputeNode]:
        with self.db.session(readonly=True) as s:
            return list(s.scalars(sa.select(ComputeNode).order_by(ComputeNode.host)))

    def statuses(self) -> dict[str, str]:
        """Each host's ``host_status`` as Nova computes it for the server view (2.16):
        DOWN when forced down, MAINTENANCE when disabled, else UP while its service
        heartbeats and UNKNOWN when it stopped."""
        return {n.host: "DOWN" if n.forced_down else "MAINTENANCE" if n.disabled
                else "UP" if self.is_up(n) else "UNKNOWN" for n in self.list()}

    def get(self, node_id: str) -> ComputeNode:
        with self.db.session(readonly=True) as s:
            node = s.get(ComputeNode, node_id)
        if node is None:
            raise errors.HypervisorNotFound(hypervisor_id=node_id)
        return node

    def by_service(self, service_id: str) -> ComputeNode:
        with self.db.session(readonly=True) as s:
            node = s.scalar(sa.select(ComputeNode).where(ComputeNode.service_id == service_id))
        if node is None:
            raise errors.ServiceNotFound(service_id=service_id)
        return node

    def by_host(self, host: str) -> ComputeNode:
        with self.db.session(readonly=True) as s:
            node = s.scalar(sa.select(ComputeNode).where(ComputeNode.host == host))
        if node is None:
            raise errors.ComputeHostNotFound(host=host)
        return node

    def update_service(self, service_id: str, **values) -> ComputeNode:
        node = self.by_service(service_id)
        with self.db.session() as s:
            s.execute(sa.update(ComputeNode).where(ComputeNode.id == node.id).values(updated_at=utcnow(), **values))
        return self.by_service(service_id)
