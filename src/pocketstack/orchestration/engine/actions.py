"""The stack actions that leave the template alone: suspend, resume and check.

Each one visits every resource that exists (created, not deleted), independent ones in
parallel: suspend in reverse dependency order (a server before the network it is on),
resume and check in dependency order, as Heat does.  A resource records the action
(``SUSPEND_IN_PROGRESS``...) before its type acts on the cloud and its outcome after,
by compare-and-swap like every step of a traversal.  Suspend and resume stop at the
first failure; check looks at every resource and fails with all they reported.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from pocketstack.orchestration import models as m
from pocketstack.orchestration.engine.store import COMPLETE, FAILED, IN_PROGRESS
from pocketstack.orchestration.engine.traversal import (
    CHANGED,
    ResourceConflict,
    StepFailed,
    Superseded,
    Traversal,
    failure_reason,
)
from pocketstack.orchestration.resources.base import ResourceType, Step

if TYPE_CHECKING:
    from pocketstack.orchestration.resources import registry
else:  # the resource types (and YAML) on first use: a stack, not every start
    from pocketstack.common.lazy import lazy

    registry = lazy("pocketstack.orchestration.resources.registry")

ACTIONS = ("SUSPEND", "RESUME", "CHECK")
# Appended to the stack's reason when some resource type cannot be checked (Heat's).
NOT_FULLY_CHECKED = ". 'CHECK' not fully supported (see resources)"


def _exists(row: m.Resource) -> bool:
    return bool(row.physical_resource_id) and row.action != "INIT" and not (
        row.action == "DELETE" and row.status == COMPLETE)


class ActionTraversal(Traversal):
    async def act(self, action: str) -> str:
        """Run ``action`` on every resource that exists; what to add to the stack's
        reason (the check of a type that cannot be checked).  StepFailed on failure."""
        live = {name: row for name, row in (await self.rows()).items() if _exists(row)}

        def requires(name: str) -> set[str]:
            return {d for d in (live[name].requires or []) if d in live and d != name}

        def required_by(name: str) -> set[str]:
            return {other for other, row in live.items() if name in (row.requires or []) and other != name}

        unchecked: list[str] = []
        failures: list[str] = []

        async def work(name: str) -> None:
            try:
                await self._act(name, action, unchecked)
            except StepFailed as failure:
                if action != "CHECK":
                    raise
                failures.append(failure.reason)

        await self._run_graph(sorted(live), required_by if action == "SUSPEND" else requires, work, set())
        if failures:
            raise StepFailed("; ".join(failures))
        return NOT_FULLY_CHECKED if unchecked else ""

    async def _act(self, name: str, action: str, unchecked: list[str]) -> None:
        row = (await self.rows())[name]
        plugin = registry.get(row.type, self.template.files)
        if action == "CHECK" and not plugin.checks:
            unchecked.append(name)
            reason = f"CHECK not supported for {row.type}"
            await self.move(row, reason, action="CHECK", status=COMPLETE, status_reason=reason)
            return
        row = await self.move(row, CHANGED, action=action, status=IN_PROGRESS, status_reason=CHANGED)
        step = self.step(row)
        assert row.physical_resource_id is not None
        try:
            await self._run(plugin, step, row.physical_resource_id, action)
        except (Superseded, ResourceConflict, asyncio.CancelledError):
            raise
        except Exception as error:  # noqa: BLE001 - every failure is the resource's reason
            reason = failure_reason(name, error)
            fresh = (await self.rows())[name]
            await self.move(fresh, reason, action=action, status=FAILED, status_reason=reason)
            raise StepFailed(reason) from None
        await self.move(row, CHANGED, status=COMPLETE, status_reason=CHANGED)

    async def _run(self, plugin: ResourceType, step: Step, physical_id: str, action: str) -> None:
        if action == "CHECK":
            await plugin.check(step, physical_id)
            return
        start: Callable[[Step, str], Awaitable[None]] = plugin.suspend if action == "SUSPEND" else plugin.resume
        done = plugin.suspend_complete if action == "SUSPEND" else plugin.resume_complete
        await start(step, physical_id)
        await self.wait(lambda: done(step, physical_id))
