"""One traversal of a stack: its resources brought to the template (create and update)
or removed (delete, rollback of a create), independent ones in parallel.

A resource is driven by one task at a time; before each step that touches the cloud the
row records what is about to happen (``CREATE_IN_PROGRESS`` before the API call, the
physical id as soon as the call answers), by compare-and-swap on its generation.  An
engine that takes a stack over therefore finds, for each resource, either nothing done
(create it), a create that may have reached the cloud without its id recorded (look for
it by its unique physical name before creating), or a physical id (wait for it to
complete): never a second copy.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

from pocketstack.common.db.cas import RetriesExhausted
from pocketstack.common.errors import ApiError
from pocketstack.orchestration import models as m
from pocketstack.orchestration.adoption import ADOPT_KEY
from pocketstack.orchestration.engine.store import COMPLETE, FAILED, IN_PROGRESS, NewResource, StackMoved, Store
from pocketstack.orchestration.resources.base import Cloud, ResourceFailure, ResourceType, Step, physical_name
from pocketstack.orchestration.resources.schema import check
from pocketstack.orchestration.template.scope import ResourceState, StackScope

if TYPE_CHECKING:
    from pocketstack.orchestration.resources import registry
else:  # the resource types (and YAML) on first use: a stack, not every start
    from pocketstack.common.lazy import lazy

    registry = lazy("pocketstack.orchestration.resources.registry")

LOG = logging.getLogger(__name__)
CHANGED = "state changed"
RETRIES = 5


class Superseded(Exception):
    """The stack or resource moved on without this engine (a newer traversal, another
    engine): stop quietly."""


class ResourceConflict(Exception):
    """A resource row changed since this traversal read it (the last write of a
    traversal that was just superseded, still in flight): the step starts over."""


class StepFailed(Exception):
    """A resource failed; ``reason`` is its ``resource_status_reason``."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def failure_reason(name: str, error: BaseException) -> str:
    """Heat's ``<Exception>: resources.<name>: <message>``."""
    if isinstance(error, ResourceFailure):
        return f"{error.kind}: resources.{name}: {error.message}"
    if isinstance(error, ApiError):
        return f"{error.error_type}: resources.{name}: {error.message}"
    return f"{type(error).__name__}: resources.{name}: {error}"


class Traversal:
    def __init__(self, store: Store, stack: m.Stack, cloud: Cloud, poll: float):
        self.store = store
        self.stack = stack
        self.cloud = cloud
        self.poll = poll
        self.template = registry.stack_template(stack.template, stack.files, stack.environment)

    # -- reading the stack ------------------------------------------------------------------
    async def rows(self) -> dict[str, m.Resource]:
        return {row.name: row for row in await asyncio.to_thread(self.store.resources, self.stack.id)}

    def scope(self, rows: dict[str, m.Resource]) -> StackScope:
        states = {name: ResourceState(row.physical_resource_id, row.attributes or {}) for name, row in rows.items()
                  if row.physical_resource_id and not (row.action == "DELETE" and row.status == COMPLETE)}
        return StackScope(self.template, self.stack.params or {}, stack_name=self.stack.name,
                          stack_id=self.stack.id, project_id=self.stack.project_id, resources=states)

    def step(self, row: m.Resource) -> Step:
        return Step(self.cloud, self.stack.name, self.stack.id, row.name, row.physical_name, dict(row.data or {}),
                    self.template.files)

    async def move(self, row: m.Resource, event: str | None = None, **values: Any) -> m.Resource:
        try:
            return await asyncio.to_thread(self.store.move, row, self.stack, event_reason=event, **values)
        except StackMoved as error:
            raise Superseded(str(error)) from error
        except RetriesExhausted as error:
            raise ResourceConflict(f"resource {row.name} changed under this traversal") from error

    async def _retrying(self, step: Callable[[str], Coroutine[Any, Any, None]], name: str) -> None:
        for attempt in range(RETRIES):
            try:
                await step(name)
                return
            except ResourceConflict:
                if attempt == RETRIES - 1:
                    raise
                await asyncio.sleep(0.1 * (attempt + 1))

    async def wait(self, check: Callable[[], Awaitable[bool]]) -> None:
        while not await check():
            await asyncio.sleep(self.poll)

    # -- forward: create and update ---------------------------------------------------------
    async def forward(self) -> None:
        """Bring every active resource to the template (StepFailed on the first failure,
        once the steps already running have ended), then remove what the template no
        longer has and what was replaced."""
        rows = await self.rows()
        active = self.scope(rows).active()
        graph = self.template.graph(active)
        missing = [NewResource(n, self.template.resources[n].type, physical_name(self.stack.name, n),
                               sorted(graph[n])) for n in active if n not in rows]
        if missing:
            await asyncio.to_thread(self.store.add_resources, self.stack.id, missing)
            rows = await self.rows()
        done = {n for n in active if rows[n].traversal == self.stack.traversal and rows[n].status == COMPLETE}
        await self._run_graph([n for n in active if n not in done], graph.__getitem__, self._converge, done)
        rows = await self.rows()
        leftover = [row for name, row in rows.items() if name not in active and row.action != "INIT"
                    and not (row.action == "DELETE" and row.status == COMPLETE)]
        await self.delete_rows(leftover, drop=True)
        replaced = [row for row in (await self.rows()).values() if row.replaced_id]
        for row in reversed(sorted(replaced, key=lambda r: topological_index(graph, r.name))):
            await self._delete_replaced(row)

    async def _run_graph(self, names: list[str], requires: Callable[[str], set[str]],
                         work: Callable[[str], Coroutine[Any, Any, None]], done: set[str]) -> None:
        pending, running = set(names), dict[str, asyncio.Task[None]]()
        failure: str | None = None
        while pending or running:
            if failure is None:
                for name in sorted(pending):
                    if requires(name) <= done:
                        running[name] = asyncio.create_task(self._retrying(work, name))
                pending -= set(running)
            if not running:
                break
            try:
                finished, _ = await asyncio.wait(running.values(), return_when=asyncio.FIRST_COMPLETED)
            except asyncio.CancelledError:  # the operation stops: so do its steps (not on a closed client)
                for other in running.values():
                    other.cancel()
                raise
            for name, task in list(running.items()):
                if task in finished:
                    del running[name]
                    error = task.exception()
                    if isinstance(error, Superseded):
                        for other in running.values():
                            other.cancel()
                        raise error
                    if error is not None:
                        failure = failure or (error.reason if isinstance(error, StepFailed)
                                              else failure_reason(name, error))
                    else:
                        done.add(name)
        if failure is not None:
            raise StepFailed(failure)

    async def _converge(self, name: str) -> None:
        rows = await self.rows()
        row = rows[name]
        definition = self.template.resources[name]
        try:
            plugin = registry.get(definition.type, self.template.files)
            scope = self.scope(rows)
            resolved = scope.resolve(definition.properties) or {}
            props = resolved if plugin.open_properties else check(plugin.properties, resolved,
                                                                  f"resources.{name}.properties")
            requires = sorted(self.template.requires(name, scope.active()))
            if row.type != definition.type and row.physical_resource_id:
                await self.delete_rows([row])
                row = (await self.rows())[name]
            await self._bring(row, plugin, props, requires)
        except (Superseded, ResourceConflict, asyncio.CancelledError):
            raise
        except Exception as error:  # noqa: BLE001 - every failure is the resource's reason
            if not isinstance(error, (ResourceFailure, ApiError)):
                LOG.exception("resource %s of stack %s failed", name, self.stack.id)
            reason = failure_reason(name, error)
            fresh = (await self.rows())[name]
            action = fresh.action if fresh.action in ("CREATE", "UPDATE", "ADOPT") else "CREATE"
            await self.move(fresh, reason, action=action, status=FAILED, status_reason=reason, type=definition.type)
            raise StepFailed(reason) from None

    async def _bring(self, row: m.Resource, plugin: ResourceType, props: dict[str, Any], requires: list[str]) -> None:
        if self.stack.action == "ADOPT" and (row.action == "INIT" or (row.action == "ADOPT" and
                                                                       row.status != COMPLETE)):
            await self._adopt(row, plugin, props, requires)
            return
        fresh = row.action == "INIT" or (row.action == "DELETE" and row.status == COMPLETE) or (
            row.action == "ADOPT" and not row.physical_resource_id)  # a failed adopt: made at the next update
        if fresh or (row.action == "CREATE" and row.status in (IN_PROGRESS, FAILED) and
                     not row.physical_resource_id):
            await self._create(row, plugin, props, requires, resume=row.status == IN_PROGRESS and not fresh)
            return
        if row.action == "CREATE" and row.status == IN_PROGRESS:
            await self._create(row, plugin, props, requires, resume=True)
            return
        if row.status == FAILED and row.physical_resource_id:  # as Heat: a failed resource is replaced
            await self._replace(row, plugin, props, requires)
            return
        old = row.properties or {}
        changed = {k: props.get(k) for k in set(old) | set(props) if old.get(k) != props.get(k)}
        if row.type != self.template.resources[row.name].type:
            changed["type"] = row.type
        if not changed and row.status == COMPLETE and not row.replaced_id:
            await self.move(row, traversal=self.stack.traversal, requires=requires, type=self.template.resources[
                row.name].type)
            return
        if row.replaced_id or plugin.needs_replacement(changed, props):
            await self._replace(row, plugin, props, requires)
            return
        row = await self.move(row, CHANGED, action="UPDATE", status=IN_PROGRESS, status_reason=CHANGED)
        step = self.step(row)
        assert row.physical_resource_id is not None
        physical_id = row.physical_resource_id
        await plugin.update(step, physical_id, props, changed)
        row = await self.move(row, data=step.data)
        await self.wait(lambda: plugin.update_complete(step, physical_id, props))
        physical_id = step.data.pop("new_id", physical_id)
        attributes = await plugin.show(step, physical_id, props)
        await self.move(row, CHANGED, status=COMPLETE, status_reason=CHANGED, properties=props, data=step.data,
                        attributes=attributes, physical_resource_id=physical_id, requires=requires,
                        traversal=self.stack.traversal)

    async def _replace(self, row: m.Resource, plugin: ResourceType, props: dict[str, Any],
                       requires: list[str]) -> None:
        """A new physical resource; the old one is deleted once the traversal is done."""
        if not row.replaced_id:
            row = await self.move(row, "Replacing resource", action="UPDATE", status=IN_PROGRESS,
                                  status_reason=CHANGED, replaced_id=row.physical_resource_id,
                                  physical_resource_id=None, physical_name=physical_name(self.stack.name, row.name),
                                  data={"replaced_data": row.data or {}})
        await self._create(row, plugin, props, requires, resume=False)

    async def _adopt(self, row: m.Resource, plugin: ResourceType, props: dict[str, Any], requires: list[str]) -> None:
        """Take over the physical resource the row's adopt entry names, with its private
        data (Heat's ``handle_adopt``; a template resource adopts its nested stack from
        the entry), and read its attributes -- which fails, as ``ADOPT_FAILED``, when the
        resource is not there.  No entry or no ``resource_id``: Heat's ``Resource ID was
        not provided.``"""
        entry = (row.data or {}).get(ADOPT_KEY) or {}
        row = await self.move(row, CHANGED, action="ADOPT", status=IN_PROGRESS, status_reason=CHANGED,
                              properties=props, requires=requires, type=self.template.resources[row.name].type)
        step = self.step(row)
        resource_id = await plugin.adopt(step, entry if isinstance(entry, dict) else {}, props)
        await self.wait(lambda: plugin.adopt_complete(step, resource_id, props))
        attributes = await plugin.show(step, resource_id, props)
        await self.move(row, CHANGED, status=COMPLETE, status_reason=CHANGED, physical_resource_id=resource_id,
                        data=step.data, attributes=attributes, traversal=self.stack.traversal)

    async def _create(self, row: m.Resource, plugin: ResourceType, props: dict[str, Any], requires: list[str],
                      resume: bool) -> None:
        row = await self.move(row, CHANGED, action="CREATE", status=IN_PROGRESS, status_reason=CHANGED,
                              properties=props, requires=requires, type=self.template.resources[row.name].type)
        step = self.step(row)
        physical_id = row.physical_resource_id
        if physical_id is None:
            if resume:
                physical_id = await plugin.find(step, props)
            if physical_id is None:
                physical_id = await plugin.create(step, props)
            row = await self.move(row, physical_resource_id=physical_id, data=step.data)
        await self.wait(lambda: plugin.create_complete(step, physical_id, props))
        attributes = await plugin.show(step, physical_id, props)
        await self.move(row, CHANGED, status=COMPLETE, status_reason=CHANGED, data=step.data, attributes=attributes,
                        traversal=self.stack.traversal)

    # -- delete ----------------------------------------------------------------------------
    async def delete_all(self) -> None:
        await self.delete_rows(list((await self.rows()).values()))

    async def delete_rows(self, rows: list[m.Resource], drop: bool = False) -> None:
        """Delete ``rows``' physical resources, each only once nothing among them that
        still exists requires it (reverse dependency order), independent ones in
        parallel; ``drop`` removes the rows too (resources an update removed)."""
        by_name = {row.name: row for row in rows}

        def blockers(name: str) -> set[str]:
            return {other for other, row in by_name.items() if name in (row.requires or []) and other != name}

        async def work(name: str) -> None:
            await self._delete(name, drop)

        await self._run_graph(list(by_name), blockers, work, set())

    async def _delete(self, name: str, drop: bool) -> None:
        row = (await self.rows()).get(name)
        if row is None or (row.action == "DELETE" and row.status == COMPLETE):
            return
        if row.action == "INIT":
            row = await self.move(row, action="DELETE", status=COMPLETE)
        else:
            try:
                row = await self._delete_physical(row)
            except (Superseded, ResourceConflict, asyncio.CancelledError):
                raise
            except Exception as error:  # noqa: BLE001 - the resource's reason
                reason = failure_reason(name, error)
                fresh = (await self.rows())[name]
                await self.move(fresh, reason, action="DELETE", status=FAILED, status_reason=reason)
                raise StepFailed(reason) from None
        if drop:
            await asyncio.to_thread(self.store.drop_resource, row)

    async def _delete_physical(self, row: m.Resource) -> m.Resource:
        interrupted_create = row.action == "CREATE" and row.status == IN_PROGRESS
        plugin = registry.get(row.type)
        row = await self.move(row, CHANGED, action="DELETE", status=IN_PROGRESS, status_reason=CHANGED)
        step = self.step(row)
        physical_id = row.physical_resource_id
        if physical_id is None and interrupted_create:
            physical_id = await plugin.find(step, row.properties or {})
        definition = self.template.resources.get(row.name)
        retain = definition is not None and definition.deletion_policy == "Retain"
        for target in [physical_id, row.replaced_id]:
            if target and not retain:
                await self._delete_one(plugin, step, target)
        return await self.move(row, CHANGED, status=COMPLETE, status_reason=CHANGED, replaced_id=None)

    async def _delete_one(self, plugin: ResourceType, step: Step, physical_id: str) -> None:
        await plugin.delete(step, physical_id)
        await self.wait(lambda: plugin.delete_complete(step, physical_id))

    async def _delete_replaced(self, row: m.Resource) -> None:
        plugin = registry.get(row.type)
        step = self.step(row)
        step.data = dict((row.data or {}).get("replaced_data") or {})
        assert row.replaced_id is not None
        await self._delete_one(plugin, step, row.replaced_id)
        data = {k: v for k, v in (row.data or {}).items() if k != "replaced_data"}
        await self.move(row, replaced_id=None, data=data)


def topological_index(graph: dict[str, set[str]], name: str) -> int:
    """Depth of ``name`` in the graph: what it requires comes first."""
    seen: dict[str, int] = {}

    def depth(node: str) -> int:
        if node not in seen:
            seen[node] = 0
            seen[node] = 1 + max((depth(d) for d in graph.get(node, ())), default=-1)
        return seen[node]
    return depth(name) if name in graph else 0
