"""The API's narrow interface to compute hosts: fire-and-forget casts.

Every method names the host (or, for builds, no host: the scheduler picks one) and the
instance; the receiving side (:class:`~.lifecycle.ComputeManager`) reloads everything
else from the database.  Today a cast is an asyncio task on the server's loop that runs
the blocking manager method in a worker thread; switching to
``pocketstack.common.rpc`` casts to ``compute.<host>`` topics changes only this module.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from pocketstack.compute.lifecycle import ComputeManager

LOG = logging.getLogger(__name__)


class ComputeAPI:
    def __init__(self, manager: ComputeManager):
        self.manager = manager
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task] = set()

    # -- transport -------------------------------------------------------------------
    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    async def drain(self) -> None:
        """Wait for every cast in flight (service stop)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _cast(self, fn: Callable, *args) -> None:
        if self._loop is None:
            raise RuntimeError("the compute service is not started")

        def spawn():
            task = self._loop.create_task(asyncio.to_thread(self._run, fn, *args))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self._loop.call_soon_threadsafe(spawn)

    @staticmethod
    def _run(fn: Callable, *args) -> None:
        try:
            fn(*args)
        except Exception:
            LOG.exception("compute operation %s%r failed", fn.__name__, args)

    # -- casts -----------------------------------------------------------------------
    def build_instance(self, instance_id: str, action_id: str | None) -> None:
        self._cast(self.manager.build_instance, instance_id, action_id)

    def delete_instance(self, host: str | None, instance_id: str, action_id: str | None) -> None:
        self._cast(self.manager.delete_instance, instance_id, action_id)

    def run_operation(self, host: str | None, instance_id: str, operation: str, action_id: str | None) -> None:
        self._cast(self.manager.run_operation, instance_id, operation, action_id)

    def rebuild_instance(self, host: str, instance_id: str, action_id: str | None) -> None:
        self._cast(self.manager.rebuild_instance, instance_id, action_id)

    def snapshot_instance(self, host: str, instance_id: str, image_id: str, action_id: str | None) -> None:
        self._cast(self.manager.snapshot_instance, instance_id, image_id, action_id)

    def resize_instance(self, host: str, instance_id: str, action_id: str | None) -> None:
        self._cast(self.manager.resize_instance, instance_id, action_id)

    def confirm_resize(self, host: str, instance_id: str, action_id: str | None) -> None:
        self._cast(self.manager.confirm_resize, instance_id, action_id)

    def revert_resize(self, host: str, instance_id: str, action_id: str | None) -> None:
        self._cast(self.manager.revert_resize, instance_id, action_id)

    def get_console_output(self, host: str, instance_id: str, length: int | None) -> str:
        """A call, not a cast: the API waits for the answer."""
        return self.manager.console_output(instance_id, length)

    def recover(self) -> None:
        """Resume or fail every operation a previous process left in a ``*-ing`` state."""
        for instance in self.manager.interrupted():
            self._cast(self.manager.recover, instance)
