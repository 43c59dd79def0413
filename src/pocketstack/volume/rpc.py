"""The volume worker behind RPC: the ``volume`` topic and the periodic recovery sweep.

The API casts every operation (``run(operation, resource_id)``) to the ``volume`` topic;
any volume process serving the backend takes it (``pocketstack up`` runs one in process
over the in-process transport; ``pocketstack volume --host NAME`` is one more, active/
active on the same backend: the tooz lock ``volume-<id>`` serialises work on a volume).

A cast nobody takes, or one taken by a process that was then killed, leaves its volume in
the ``*-ing`` state the API put it in.  Each volume process therefore sweeps every
quarter of ``volume_recovery_window``: whatever has been in a ``*-ing`` state longer than
the window and whose lock nobody holds (a live worker holds it for the whole operation)
is resumed, rolled back or failed by :func:`~.recovery.recover`.
"""

from __future__ import annotations

import asyncio
import logging

from pocketstack.common import rpc
from pocketstack.volume.recovery import recover

LOG = logging.getLogger(__name__)
TOPIC = "volume"


class VolumeEndpoint:
    def __init__(self, worker):
        self.worker = worker

    async def run(self, operation: str, resource_id: str) -> None:
        await self.worker.run(operation, resource_id)


class VolumeHost:
    """This process's volume worker: the RPC server on the ``volume`` topic and the sweep."""

    def __init__(self, worker, transport: rpc.Transport, host: str, window: float):
        self.worker = worker
        self.server = rpc.RPCServer(transport, rpc.Target(TOPIC), [VolumeEndpoint(worker)], server=host)
        self.window = window
        self._sweeper: asyncio.Task | None = None

    async def start(self) -> None:
        await self.server.start()
        await self.sweep()
        self._sweeper = asyncio.create_task(self._sweep_forever())

    async def sweep(self) -> None:
        counts = await asyncio.to_thread(recover, self.worker, self.window)
        if any(counts.values()):
            LOG.warning("volume recovery: %s", counts)

    async def _sweep_forever(self) -> None:
        interval = max(0.5, self.window / 4)
        while True:
            await asyncio.sleep(interval)
            try:
                await self.sweep()
            except Exception:  # noqa: BLE001 - try again at the next interval
                LOG.exception("volume recovery sweep failed")

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
            self._sweeper = None
        await self.server.stop()
