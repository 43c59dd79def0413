"""The Object Storage service as the cloud runs it: the Swift v1 proxy under
``/object-store``, the :class:`~pocketstack.object.manager.ObjectManager` other services
call in process, and its replication, audit and expiry passes as background tasks
(their blocking walks in threads)."""

from __future__ import annotations

import asyncio
import contextlib

from pocketstack.common.health import Check, task_running
from pocketstack.common.service import Service
from pocketstack.object.background import every
from pocketstack.object.manager import ObjectManager
from pocketstack.object.policies import RULES


class ObjectService(Service):
    name = "object"
    path = "/object-store"
    catalog_type = "object-store"
    catalog_name = "swift"
    catalog_suffix = "/v1/AUTH_%(project_id)s"
    rules = RULES

    def __init__(self, cloud):
        super().__init__(cloud)
        self.manager = ObjectManager(cloud.settings)
        self._tasks: list[asyncio.Task] = []

    def app(self):
        from pocketstack.object.api import build_router
        from pocketstack.object.api.responses import MAX_BODY, finish, preparer, swift_format
        router = build_router(self.manager.store, self.manager, self.cloud.settings.object_cross_domain_policy)
        return self.api(router, swift_format, prepare=preparer(self.path), finish=finish, max_body=MAX_BODY)

    async def start(self) -> None:
        interval = self.cloud.settings.object_background_interval
        if interval > 0 and self.cloud.primary:  # one process per node runs the passes
            self._tasks = [asyncio.create_task(every(interval, work, name), name=f"object.{name}")
                           for name, work in self.manager.background_passes().items()]

    def health(self) -> list[Check]:
        """Its replication, audit and expiry passes keep running."""
        return [task_running(task.get_name(), task) for task in self._tasks]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.manager.close()
