"""The engine: drives each stack whose lease it holds through its operation.

An operation (create, update, delete, rollback; suspend, resume, check) runs under the stack's lease, which a
keeper task renews every third of its length; when a renewal fails (an API call started
a newer traversal -- a delete during a create -- or another engine took the stack over
after this one stalled) the operation is cancelled, and every write it still tries is
refused by compare-and-swap.  A failed create or update with rollback enabled goes on,
under the same lease, as a ``ROLLBACK`` traversal.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from pocketstack.common.db.base import utcnow
from pocketstack.orchestration import models as m
from pocketstack.orchestration.engine.actions import ACTIONS, ActionTraversal
from pocketstack.orchestration.engine.store import COMPLETE, FAILED, Store
from pocketstack.orchestration.engine.traversal import StepFailed, Superseded, Traversal
from pocketstack.orchestration.resources.base import Cloud

if TYPE_CHECKING:
    from pocketstack.cloud import Cloud as PocketCloud
    from pocketstack.orchestration.manager import OrchestrationManager

LOG = logging.getLogger(__name__)


class Engine:
    def __init__(self, cloud: PocketCloud, manager: OrchestrationManager, identity: str, lease: float, poll: float):
        """``manager``: its trustee acts for the stacks (their trusts), and it deletes a
        deleted stack's trust."""
        self.cloud = cloud
        self.manager = manager
        self.store = Store(cloud.db)
        self.identity = identity
        self.lease = lease
        self.poll = poll
        # stack id -> (traversal, task) of the operations this engine runs now.
        self.running: dict[str, tuple[str, asyncio.Task[None]]] = {}

    async def drive(self, stack_id: str) -> None:
        """Take the stack's lease if nobody else holds it and run its operation (a newer
        traversal of a stack this engine drives replaces the older one)."""
        stack = await asyncio.to_thread(self.store.claim, stack_id, self.identity, self.lease)
        if stack is None:
            return
        current = self.running.get(stack_id)
        if current is not None:
            if current[0] == stack.traversal:
                return
            current[1].cancel()
            await asyncio.gather(current[1], return_exceptions=True)
        task = asyncio.create_task(self._drive(stack))
        self.running[stack_id] = (stack.traversal, task)
        task.add_done_callback(functools.partial(self._forget, stack_id))

    def _forget(self, stack_id: str, task: asyncio.Task[None]) -> None:
        if self.running.get(stack_id, (None, None))[1] is task:
            del self.running[stack_id]

    async def stop(self) -> None:
        """Stop driving (the leases lapse: another engine, or this one restarted, goes on)."""
        tasks = [task for _, task in self.running.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.running.clear()

    async def _drive(self, stack: m.Stack) -> None:
        state = {"traversal": stack.traversal}
        operation = asyncio.create_task(self._operation(stack, state))
        keeper = asyncio.create_task(self._keep(stack.id, state, operation))
        try:
            await operation
        except (asyncio.CancelledError, Superseded):
            LOG.info("stack %s: operation stopped (superseded or engine stopping)", stack.id)
        except Exception:  # noqa: BLE001 - an engine bug must not kill the engine
            LOG.exception("stack %s: operation failed", stack.id)
        finally:
            keeper.cancel()
            operation.cancel()
            await asyncio.gather(keeper, operation, return_exceptions=True)

    async def _keep(self, stack_id: str, state: dict[str, str], operation: asyncio.Task[None]) -> None:
        while True:
            await asyncio.sleep(self.lease / 3)
            if not await asyncio.to_thread(self.store.renew, stack_id, self.identity, state["traversal"], self.lease):
                LOG.warning("stack %s: lease lost, stopping", stack_id)
                operation.cancel()
                return

    async def _operation(self, stack: m.Stack, state: dict[str, str]) -> None:
        async with self.manager.trustee.client(stack.trust_id) as client:
            cloud = Cloud(client, stack.project_id, self.cloud.settings.orchestration_heat_url)
            if stack.action == "DELETE" or (stack.action == "ROLLBACK" and stack.previous is None):
                await self._delete(stack, cloud)
                return
            try:
                if stack.action in ACTIONS:
                    note = await self._timed(stack, ActionTraversal(self.store, stack, cloud, self.poll).act(
                        stack.action))
                else:
                    note = await self._timed(stack, self._forward(stack, cloud))
            except StepFailed as failure:
                reason = f"Resource {stack.action} failed: {failure.reason}"
                await self._failed(stack, cloud, state, reason)
                return
            except asyncio.TimeoutError:
                await self._failed(stack, cloud, state, "Timed out")
                return
            await asyncio.to_thread(self.store.finish, stack, self.identity, stack.action, COMPLETE,
                                    f"Stack {stack.action} completed successfully{note}", previous=None)

    async def _forward(self, stack: m.Stack, cloud: Cloud) -> str:
        await Traversal(self.store, stack, cloud, self.poll).forward()
        return ""

    async def _timed(self, stack: m.Stack, work: Awaitable[str]) -> str:
        if stack.deadline is None:
            return await work
        remaining = (stack.deadline - utcnow()).total_seconds()
        return await asyncio.wait_for(work, timeout=max(remaining, 0.001))

    async def _failed(self, stack: m.Stack, cloud: Cloud, state: dict[str, str], reason: str) -> None:
        if stack.disable_rollback or stack.action not in ("CREATE", "UPDATE"):
            await asyncio.to_thread(self.store.finish, stack, self.identity, stack.action, FAILED, reason)
            return
        previous = stack.previous or {}
        values = {"template": previous["template"], "files": previous.get("files") or {},
                  "params": previous.get("params") or {}} if stack.action == "UPDATE" else {}
        rollback = await asyncio.to_thread(self.store.switch, stack, self.identity, "ROLLBACK", reason, **values)
        if rollback is None:
            return
        state["traversal"] = rollback.traversal
        if stack.action == "CREATE":
            rollback.previous = None
            await self._delete(rollback, cloud)
            return
        try:
            await Traversal(self.store, rollback, cloud, self.poll).forward()
        except StepFailed as failure:
            await asyncio.to_thread(self.store.finish, rollback, self.identity, "ROLLBACK", FAILED,
                                    f"Resource ROLLBACK failed: {failure.reason}")
            return
        await asyncio.to_thread(self.store.finish, rollback, self.identity, "ROLLBACK", COMPLETE,
                                "Stack ROLLBACK completed successfully", previous=None)

    async def _delete(self, stack: m.Stack, cloud: Cloud) -> None:
        action = stack.action
        try:
            await Traversal(self.store, stack, cloud, self.poll).delete_all()
        except StepFailed as failure:
            await asyncio.to_thread(self.store.finish, stack, self.identity, action, FAILED,
                                    f"Resource DELETE failed: {failure.reason}")
            return
        # A deleted stack is gone in the same transaction that completes its delete: no
        # reader ever sees it DELETE_COMPLETE and still there.  Its trust goes first, as
        # in Heat: nothing is left to do with it.
        gone = {"deleted_at": utcnow()} if action == "DELETE" else {}
        if gone:
            await self.manager.release(stack)
        await asyncio.to_thread(self.store.finish, stack, self.identity, action, COMPLETE,
                                f"Stack {action} completed successfully", **gone)

    # -- taking stacks over ------------------------------------------------------------------
    async def recover_own(self) -> None:
        """Stacks this engine (by its name) was driving before it stopped: at once."""
        for stack_id in await asyncio.to_thread(self.store.own, self.identity):
            await self.drive(stack_id)

    async def sweep(self) -> None:
        """Stacks in progress whose lease lapsed (their engine died) or that no engine
        ever took (a cast lost): taken over."""
        for stack_id in await asyncio.to_thread(self.store.claimable, utcnow()):
            if stack_id not in self.running:
                await self.drive(stack_id)
