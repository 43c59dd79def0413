"""A network agent: the host side of the datapath (``pocketstack network-agent --host``).

The agent joins the ``<cluster_name>-network-agent`` coordination group with its host
and heartbeats it (that is what makes it *alive* in ``GET /v2.0/agents``), keeps its
row in ``network_agent`` (registered on start, stamped on every beat), replays the full
network state to its driver on start, then applies every change the API processes fan
out on the ``network-agent`` topic (:mod:`.drivers.rpc`) with the configured driver.

The all-in-one cloud runs the same agent in process, without the RPC server: its
service hands changes to the driver directly, as before.
"""

from __future__ import annotations

import asyncio
import logging

from pocketstack.common import rpc
from pocketstack.common.health import Check, task_running
from pocketstack.common.heartbeat import Heartbeat
from pocketstack.network import agent_records
from pocketstack.network.drivers.base import EVENTS, RESCAN_INTERVAL, DatapathDriver

LOG = logging.getLogger(__name__)


class DatapathEndpoint:
    """The RPC face of the driver: one method, so the wire format is the event name."""

    def __init__(self, driver: DatapathDriver):
        self.driver = driver

    async def apply(self, event: str, payload: dict) -> None:
        if event not in EVENTS:
            LOG.warning("ignoring unknown datapath event %r", event)
            return
        await asyncio.to_thread(getattr(self.driver, event), payload)


class NetworkAgent:
    def __init__(self, manager, driver: DatapathDriver, heartbeat: Heartbeat, host: str,
                 transport: rpc.Transport | None):
        self.manager = manager
        self.driver = driver
        self.heartbeat = heartbeat
        self.host = host
        self.configurations = {"datapath_driver": driver.name}
        self.server = (rpc.RPCServer(transport, rpc.Target(agent_records.TOPIC), [DatapathEndpoint(driver)],
                                     server=host) if transport is not None else None)
        self._stamper: asyncio.Task | None = None
        self._rescanner: asyncio.Task | None = None

    async def start(self) -> None:
        # Listen before replaying, so a change made during the replay is not missed.
        if self.server is not None:
            await self.server.start()
        state = await asyncio.to_thread(self.manager.datapath_state)
        await asyncio.to_thread(self.driver.sync, state)
        await asyncio.to_thread(agent_records.register, self.manager.env.db, self.host, self.report(),
                                self.driver.agent_types)
        await self.heartbeat.start({self.host})
        self._stamper = asyncio.create_task(self._stamp_forever(), name=f"network agent {self.host}")
        self._rescanner = asyncio.create_task(self._rescan_forever(), name=f"network agent {self.host} rescan")
        LOG.info("network agent %s running (driver %s)", self.host, self.driver.name)

    def health(self) -> list[Check]:
        """Registered and stamping its heartbeat; serving its topic when scaled out."""
        checks = [task_running(f"network.agent {self.host}", self._stamper)]
        if self.server is not None:
            checks.append(Check(f"network.agent {self.host} rpc", self.server.serving))
        return checks

    def report(self) -> dict:
        """``configurations`` as stamped now: the agent's own, then the driver's status."""
        return {**self.configurations, **self.driver.status()}

    async def _stamp_forever(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat.interval)
            try:
                await asyncio.to_thread(agent_records.beat, self.manager.env.db, self.host, self.report(),
                                        self.driver.agent_types)
            except Exception:  # noqa: BLE001 - the next beat tries again
                LOG.exception("could not stamp the heartbeat of network agent %s", self.host)

    async def _rescan_forever(self) -> None:
        while True:
            await asyncio.sleep(RESCAN_INTERVAL)
            try:
                await asyncio.to_thread(self.driver.rescan)
            except Exception:  # noqa: BLE001 - the next round tries again
                LOG.exception("network agent %s could not rescan its datapath", self.host)

    async def stop(self) -> None:
        for task in (self._stamper, self._rescanner):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self._stamper = self._rescanner = None
        await self.heartbeat.stop()
        if self.server is not None:
            await self.server.stop()
