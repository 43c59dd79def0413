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
        router = build_router(self.manager.store, self.manager, self.cloud.settings.object_cross_domain_policy,
                              self.manager.sync)
        return self.api(router, swift_format, prepare=preparer(self.path), finish=finish, max_body=MAX_BODY)

    async def start(self) -> None:
        settings = self.cloud.settings
        if not self.cloud.primary:  # one process per node runs the passes
            return
        if settings.object_background_interval > 0:
            self._tasks = [asyncio.create_task(every(settings.object_background_interval, work, name),
                                               name=f"object.{name}")
                           for name, work in self.manager.background_passes().items()]
        if settings.object_container_sync_interval > 0:
            self._tasks.append(asyncio.create_task(
                every(settings.object_container_sync_interval, self.manager.syncer.run_once, "container-sync"),
                name="object.container-sync"))

    def health(self) -> list[Check]:
        """Its replication, audit, expiry and container sync passes keep running."""
        return [task_running(task.get_name(), task) for task in self._tasks]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.manager.close()
