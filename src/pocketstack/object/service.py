"""The Object Storage service as the cloud runs it: the Swift v1 proxy under
``/object-store``, local devices and rings created on first start, and the
replicator, auditor and object expirer as background tasks (their blocking walks in threads).
Object replicas on ring devices of other addresses go to storage nodes over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import ThreadPoolExecutor

from pocketstack.common.api.app import ServiceSpec, build_app
from pocketstack.common.api.request import ApiRequest
from pocketstack.common.service import Service
from pocketstack.object.api import build_router, names, responses
from pocketstack.object.api.errors import swift_format
from pocketstack.object.auditor import Auditor
from pocketstack.object.background import every
from pocketstack.object.expirer import Expirer
from pocketstack.object.layout import Cluster
from pocketstack.object.nodes import Nodes
from pocketstack.object.replicator import Replicator
from pocketstack.object.rings import ensure_cluster
from pocketstack.object.store import ObjectStore


class ObjectService(Service):
    name = "object"
    path = "/object-store"
    catalog_type = "object-store"
    catalog_name = "swift"
    catalog_suffix = "/v1/AUTH_%(project_id)s"

    def __init__(self, cloud):
        super().__init__(cloud)
        settings = cloud.settings
        root = settings.data_dir / "object"
        suffix = ensure_cluster(root, devices=settings.object_devices, replicas=settings.object_replicas,
                                part_power=settings.object_part_power, port=settings.port)
        self.cluster = Cluster(root, suffix, own_port=settings.port)
        self.pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="object-io")
        self.nodes = Nodes()
        self.store = ObjectStore(self.cluster, self.pool, self.nodes)
        self.replicator = Replicator(self.cluster, settings.object_reclaim_age)
        self.auditor = Auditor(self.cluster)
        self.expirer = Expirer(self.store)
        self._tasks: list[asyncio.Task] = []

    def app(self):
        cloud = self.cloud
        path = self.path

        def prepare(req: ApiRequest) -> None:
            req.attributes["service_path"] = path
            names.check_path(req.raw.scope.get("raw_path", b""))

        return build_app(ServiceSpec(
            name=self.name, router=build_router(self.store), error_format=swift_format,
            enforcer=cloud.enforcer, validate_token=cloud.identity.validate_token, service_url=self.url,
            prepare=prepare, finish=responses.finish, max_body=4 * 1024 * 1024,
            www_authenticate=f'Keystone uri="{cloud.settings.effective_public_url}/identity"'))

    async def start(self) -> None:
        interval = self.cloud.settings.object_background_interval
        if interval > 0:
            self._tasks = [asyncio.create_task(every(interval, self.replicator.run_once, "replication")),
                           asyncio.create_task(every(interval, self.auditor.run_once, "audit")),
                           asyncio.create_task(every(interval, self.expirer.run_once, "expiry"))]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.pool.shutdown(wait=True)
        self.nodes.close()

