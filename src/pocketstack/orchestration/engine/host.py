"""The engine behind RPC: the ``orchestration`` topic and the takeover sweep.

The API records a stack's operation (a new traversal, IN_PROGRESS, no engine) and casts
``drive(stack_id)`` to the topic; any engine takes it.  An engine that starts takes
over, at once, what it was driving under its name before it stopped; every engine then
sweeps twice per lease for operations whose engine stopped renewing its lease (killed) or
that no engine ever took: such stacks are finished by whoever sweeps first (the claim is
a compare-and-swap).
"""

from __future__ import annotations

import asyncio
import logging

from pocketstack.common import rpc
from pocketstack.orchestration.engine.engine import Engine

LOG = logging.getLogger(__name__)
TOPIC = "orchestration"


class EngineEndpoint:
    def __init__(self, engine: Engine):
        self.engine = engine

    async def drive(self, stack_id: str) -> None:
        await self.engine.drive(stack_id)


class EngineHost:
    def __init__(self, engine: Engine, transport: rpc.Transport):
        self.engine = engine
        self.server = rpc.RPCServer(transport, rpc.Target(TOPIC), [EngineEndpoint(engine)], server=engine.identity)
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.server.start()
        await self.engine.recover_own()
        self._sweeper = asyncio.create_task(self._sweep_forever())

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await self.engine.sweep()
            except Exception:  # noqa: BLE001 - try again at the next interval
                LOG.exception("orchestration sweep failed")
            await asyncio.sleep(self.engine.lease / 2)

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
            self._sweeper = None
        await self.server.stop()
        await self.engine.stop()
