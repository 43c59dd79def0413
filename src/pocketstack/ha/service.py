"""The instance-HA service as a process runs it: the notifications API under
``/instance-ha`` (catalog type ``instance-ha``, as Masakari's) and, with the "ha" role, the
monitor loop -- every ``ha_monitor_interval`` seconds the process that holds the lead
(:mod:`.leader`) looks at the hosts and advances the open recoveries.  Wiring only: the
parts live in :class:`~pocketstack.ha.manager.InstanceHA`."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from pocketstack.common.api.errors import fault_format
from pocketstack.common.heartbeat import group_name
from pocketstack.common.service import Service
from pocketstack.ha.api import build_router
from pocketstack.ha.api.common import VERSIONS, finish
from pocketstack.ha.leader import Leadership
from pocketstack.ha.manager import InstanceHA
from pocketstack.ha.policies import RULES

LOG = logging.getLogger(__name__)


class HaService(Service):
    name = "ha"
    path = "/instance-ha"
    catalog_type = "instance-ha"
    catalog_name = "masakari"
    catalog_suffix = "/v1"
    rules = RULES

    def __init__(self, cloud):
        super().__init__(cloud)
        self.manager = InstanceHA(cloud)
        self.leadership = Leadership(lambda: cloud.coordinator, group_name(cloud.settings.cluster_name, "ha-leader"))
        self._loop_task: asyncio.Task[None] | None = None

    def app(self):
        return self.api(build_router(self.manager), fault_format, versions=VERSIONS, finish=finish)

    async def start(self) -> None:
        if "ha" in self.cloud.roles:
            self._loop_task = asyncio.get_running_loop().create_task(self._watch(), name="instance HA monitor")

    async def _watch(self) -> None:
        interval = self.cloud.settings.ha_monitor_interval
        while True:
            try:
                if await asyncio.to_thread(self.leadership.lead):
                    await asyncio.to_thread(self.manager.tick)
            except Exception:  # one bad round must not end the monitoring
                LOG.exception("instance HA round failed; next one in %ss", interval)
            await asyncio.sleep(interval)

    async def stop(self) -> None:
        if self._loop_task is None:
            return
        self._loop_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._loop_task
        self._loop_task = None
        await asyncio.to_thread(self.leadership.resign)
