"""The volume worker behind RPC: the ``volume`` topic and the periodic recovery sweep.

The API casts every operation (``run(operation, resource_id)``) to the ``volume`` topic;
any volume process serving the backend takes it (``pocketstack up`` runs one in process
over the in-process transport; ``pocketstack volume --host NAME`` is one more, active/
active on the same backend: the tooz lock ``volume-<id>`` serialises work on a volume).

A cast nobody takes, or one taken by a process that was then killed, leaves its volume in
the ``*-ing`` state the API put it in.  A volume process that starts first recovers what
its own previous run was doing (the rows it claimed under its host name, see
:func:`~.recovery.recover_own`) — at once, not after a window.  Every volume process then
sweeps every quarter of ``volume_recovery_window``: whatever has been in a ``*-ing`` state
longer than the window and whose lock nobody holds (a live worker holds it for the whole
operation) is resumed, rolled back or failed by :func:`~.recovery.recover` — the work of a
worker that never comes back.
"""

from __future__ import annotations

import asyncio
import logging
import time

from pocketstack.common import rpc
from pocketstack.common.health import Check, task_running
from pocketstack.volume import messages
from pocketstack.volume.recovery import recover, recover_own

LOG = logging.getLogger(__name__)
TOPIC = "volume"
# Seconds between start-up passes over this worker's own rows whose lock is still held:
# with Redis, a killed process's lock lives on until tooz's lock timeout.
OWN_RETRY = 2.0


class VolumeEndpoint:
    def __init__(self, worker):
        self.worker = worker

    async def run(self, operation: str, resource_id: str) -> None:
        await self.worker.run(operation, resource_id)


class VolumeHost:
    """This process's volume worker: the RPC server on the ``volume`` topic and the sweep."""

    def __init__(self, worker, transport: rpc.Transport, host: str, window: float):
        self.worker = worker
        self.host = host
        self.server = rpc.RPCServer(transport, rpc.Target(TOPIC), [VolumeEndpoint(worker)], server=host)
        self.window = window
        self._sweeper: asyncio.Task | None = None

    async def start(self) -> None:
        """Serve the topic as ``host`` (the owner name of the rows this worker claims), then
        recover this worker's own interrupted work and everything abandoned too long ago."""
        self.worker.identity = self.host
        await self.server.start()
        own_busy = await self.recover_own()
        await self.sweep()
        self._sweeper = asyncio.create_task(self._sweep_forever(own_busy))

    def health(self) -> list[Check]:
        return [Check(f"volume.host {self.host}", self.server.serving, "serving" if self.server.serving
                      else "not serving"), task_running(f"volume.host {self.host} sweep", self._sweeper)]

    async def recover_own(self) -> int:
        """What this worker's previous run left half done; returns how many of those rows
        are still locked."""
        counts = await asyncio.to_thread(recover_own, self.worker, self.host)
        if any(counts.values()):
            LOG.warning("volume recovery of %s's own work: %s", self.host, counts)
        return counts["busy"]

    async def sweep(self) -> None:
        """Recovery of abandoned work, and the expired user messages deleted."""
        counts = await asyncio.to_thread(recover, self.worker, self.window)
        if any(counts.values()):
            LOG.warning("volume recovery: %s", counts)
        await asyncio.to_thread(messages.reap, self.worker.db)

    async def _sweep_forever(self, own_busy: int) -> None:
        """Own rows still locked at start (a killed process's Redis lock lives until tooz's
        lock timeout) are tried every ``OWN_RETRY`` seconds for up to the window; then the
        periodic sweep."""
        deadline = time.monotonic() + self.window
        while own_busy and time.monotonic() < deadline:
            await asyncio.sleep(OWN_RETRY)
            own_busy = await self._guarded(self.recover_own, 0)
        interval = max(0.5, self.window / 4)
        while True:
            await asyncio.sleep(interval)
            await self._guarded(self.sweep, None)

    @staticmethod
    async def _guarded(step, failed):
        try:
            return await step()
        except Exception:  # noqa: BLE001 - try again at the next interval
            LOG.exception("volume recovery failed")
            return failed

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
            self._sweeper = None
        await self.server.stop()
