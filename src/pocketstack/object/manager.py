"""The in-process face of object storage: the proxy's store over the local cluster,
and the background passes that keep its replicas whole.

On first start the data directory gets its devices and rings (``rings.ensure_cluster``);
replicas on ring devices of other addresses are reached on their storage nodes over
HTTP (``nodes``).  Other services call the :class:`~.contract.ObjectContract` methods;
the Swift API uses :attr:`store` itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pocketstack.common.config import Settings
from pocketstack.object import timestamps
from pocketstack.object.auditor import Auditor
from pocketstack.object.contract import Listing
from pocketstack.object.diskfile import ObjectState
from pocketstack.object.dispersion import Report, report
from pocketstack.object.expirer import Expirer
from pocketstack.object.layout import KINDS, Cluster
from pocketstack.object.nodes import Nodes
from pocketstack.object.replicator import Replicator
from pocketstack.object.ring import RingBuilder
from pocketstack.object.ring.report import RingSummary, summary
from pocketstack.object.rings import ensure_cluster
from pocketstack.object.store import ObjectStore
from pocketstack.object.syncer import ContainerSyncer
from pocketstack.object.syncrealms import SyncConfig, SyncRealms

# Threads for the store's leaf disk and database work (one replica's write or read each).
IO_THREADS = 32


class ObjectManager:
    """Owns the cluster and everything working on it; closed when the service stops."""

    def __init__(self, settings: Settings):
        root = settings.data_dir / "object"
        suffix = ensure_cluster(root, devices=settings.object_devices, replicas=settings.object_replicas,
                                part_power=settings.object_part_power, port=settings.port)
        self.cluster = Cluster(root, suffix, own_port=settings.port)
        self.pool = ThreadPoolExecutor(max_workers=IO_THREADS, thread_name_prefix="object-io")
        self.nodes = Nodes()
        self.store = ObjectStore(self.cluster, self.pool, self.nodes)
        self.replicator = Replicator(self.cluster, settings.object_reclaim_age)
        self.auditor = Auditor(self.cluster)
        self.expirer = Expirer(self.store)
        realms = SyncRealms.load(settings.object_container_sync_realms_file, settings.object_container_sync_current)
        self.sync = SyncConfig.of(realms, settings.object_container_sync_hosts)
        self.syncer = ContainerSyncer(self.cluster, self.store, self.sync)

    def background_passes(self) -> dict[str, Callable[[], object]]:
        """The passes to run every ``object_background_interval``, by name (blocking)."""
        return {"replication": self.replicator.run_once, "audit": self.auditor.run_once,
                "expiry": self.expirer.run_once}

    def close(self) -> None:
        """Finish the disk work in flight and drop the storage nodes' connections."""
        self.pool.shutdown(wait=True)
        self.nodes.close()

    # -- the contract ---------------------------------------------------------------------
    def timestamp(self) -> str:
        return timestamps.now()

    def container(self, account: str, container: str) -> tuple[Listing, dict[str, Any]] | None:
        return self.store.container(account, container)

    def put_container(self, account: str, container: str, metadata: dict[str, str], timestamp: str) -> bool:
        return self.store.put_container(account, container, metadata, timestamp)

    async def put_object(self, account: str, container: str, obj: str, chunks: AsyncIterator[bytes],
                         metadata: dict[str, str], timestamp: str,
                         check: Callable[[str, int], None] | None = None,
                         listing: tuple[int, str] | None = None) -> tuple[str, int]:
        return await self.store.put_object(account, container, obj, chunks, metadata, timestamp, check, listing)

    def object_state(self, account: str, container: str, obj: str) -> ObjectState:
        return self.store.object_state(account, container, obj)

    def remove_object(self, account: str, container: str, obj: str, state: ObjectState) -> None:
        self.store.remove_object(account, container, obj, state)

    def ring(self, kind: str) -> RingSummary:
        if kind not in KINDS:
            raise KeyError(kind)
        root = self.cluster.root
        return summary(RingBuilder.load(root / f"{kind}.builder"), str(root / f"{kind}.ring.gz"))

    def dispersion(self, sample: int) -> Report:
        return report(self.cluster, sample)
