"""What the volume worker asks of a storage backend.

Every method is blocking (it moves real data) and is called from a worker thread while
the worker holds the volume's lock; each must be idempotent, because start-up recovery
re-runs interrupted work.  A driver also publishes its capabilities: the standard ones
every backend answers the same way, and its own under a separate namespace so that
operators and the scheduler never confuse vendor-specific terms with standard ones.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

GiB = 1024 ** 3


# Extra specs the scheduler matches against a backend's capabilities by plain equality.
MATCHED = ("volume_backend_name", "vendor_name", "storage_protocol")


@dataclass
class Capabilities:
    """A backend pool as ``/scheduler-stats/get_pools`` and ``/capabilities`` show it."""

    volume_backend_name: str
    vendor_name: str
    driver_version: str
    storage_protocol: str
    total_capacity_gb: float
    free_capacity_gb: float
    allocated_capacity_gb: float
    thin_provisioning_support: bool
    thick_provisioning_support: bool
    QoS_support: bool = False
    multiattach: bool = True
    replication_enabled: bool = False
    online_extend_support: bool = False
    reserved_percentage: int = 0
    # Driver-specific capabilities, published under "<vendor>:" keys.
    vendor: dict = field(default_factory=dict)

    def serves(self, extra_specs: dict) -> bool:
        """Whether a volume type's extra specs let the scheduler pick this backend: the
        keys it matches by plain equality (``volume_backend_name``, ``vendor_name``,
        ``storage_protocol``) equal ours, and ``multiattach`` only if we offer it.  A key
        may carry Cinder's ``capabilities:`` scope (the capabilities filter's)."""
        extra_specs = {k.removeprefix("capabilities:"): v for k, v in extra_specs.items()}
        for key in MATCHED:
            if key in extra_specs and str(extra_specs[key]) != str(getattr(self, key)):
                return False
        wants_multiattach = str(extra_specs.get("multiattach", "")).lower() in ("<is> true", "true")
        return self.multiattach or not wants_multiattach


class Driver(abc.ABC):
    name = "base"

    @abc.abstractmethod
    def create_volume(self, volume_id: str, size_gb: int) -> None:
        """An empty (all zeros) volume of ``size_gb``."""

    @abc.abstractmethod
    def delete_volume(self, volume_id: str) -> None:
        """Remove the volume's data; succeeds when it is already gone."""

    @abc.abstractmethod
    def extend_volume(self, volume_id: str, size_gb: int) -> None: ...

    @abc.abstractmethod
    def clone_volume(self, source_id: str, volume_id: str, size_gb: int) -> None:
        """A new volume holding a copy of ``source_id``'s data, grown to ``size_gb``."""

    @abc.abstractmethod
    def create_snapshot(self, volume_id: str, snapshot_id: str) -> None: ...

    @abc.abstractmethod
    def delete_snapshot(self, snapshot_id: str) -> None: ...

    @abc.abstractmethod
    def volume_from_snapshot(self, snapshot_id: str, volume_id: str, size_gb: int) -> None: ...

    @abc.abstractmethod
    def write_image(self, volume_id: str, chunks: Iterable[bytes], disk_format: str, size_gb: int) -> None:
        """Fill the volume with an image's bytes, converting from ``disk_format``."""

    @abc.abstractmethod
    def read_volume(self, volume_id: str, chunk_size: int) -> Iterator[bytes]:
        """The volume's raw bytes, in chunks."""

    @abc.abstractmethod
    def local_path(self, volume_id: str):
        """A local file or block device holding the volume's raw bytes (what backups read
        and restores write, like Cinder's ``local_path``)."""

    @abc.abstractmethod
    def snapshot_local_path(self, snapshot_id: str):
        """A local file or block device holding the snapshot's raw bytes (what a backup of
        the snapshot reads)."""

    @abc.abstractmethod
    def capabilities(self, allocated_gb: int) -> Capabilities: ...
