"""A stack's resources (list, show with attributes, metadata) and events."""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.common.db.cas import RetriesExhausted
from pocketstack.orchestration import actions, errors
from pocketstack.orchestration import models as m
from pocketstack.orchestration.api import render, schemas
from pocketstack.orchestration.api.common import authorize, depth, project
from pocketstack.orchestration.api.stacks import STACK, _paged
from pocketstack.orchestration.engine.store import StackMoved
from pocketstack.orchestration.manager import OrchestrationManager
from pocketstack.orchestration.resources import registry


class ResourcesApi:
    def __init__(self, manager: OrchestrationManager):
        self.manager = manager

    def _stack(self, req: ApiRequest) -> m.Stack:
        tenant = authorize(req)
        return self.manager.get(tenant, req.path_params["stack_name"], req.path_params["stack_id"])

    def _rows(self, stack: m.Stack) -> list[m.Resource]:
        """The resources as Heat lists them: not the ones never created, nor deleted."""
        rows = self.manager.store.resources(stack.id)
        if stack.action == "DELETE" and stack.status == "COMPLETE":
            return []
        return [r for r in rows if not (r.action == "DELETE" and r.status == "COMPLETE" and stack.action != "DELETE")]

    @staticmethod
    def _required_by(rows: list[m.Resource], name: str) -> list[str]:
        return sorted(r.name for r in rows if name in (r.requires or []))

    def _nested(self, stack: m.Stack) -> dict[str, m.Stack]:
        """The stack's nested stacks by id (a template resource's physical id)."""
        return {child.id: child for child in self.manager.store.children([stack.id])}

    @route.get(STACK + "/resources", policy="resource:index")
    def index(self, req: ApiRequest) -> dict:
        """The stack's resources, then (``nested_depth``) those of its nested stacks, as
        Heat's ``iter_resources`` lists them."""
        shown: list[dict] = []
        self._list(req, self._stack(req), depth(req, "nested_depth"), shown)
        return {"resources": shown}

    def _list(self, req: ApiRequest, stack: m.Stack, levels: int, shown: list[dict]) -> None:
        rows = self._rows(stack)
        nested = self._nested(stack)
        listed = rows
        for key, attribute in (("name", "name"), ("id", "physical_resource_id")):
            wanted = req.query.getlist(key)
            if wanted:
                listed = [r for r in listed if getattr(r, attribute) in wanted]
        for key in ("status", "action"):
            wanted = req.query.getlist(key)
            if wanted:
                listed = [r for r in listed if getattr(r, key) in wanted]
        types = req.query.getlist("type")
        if types:
            listed = [r for r in listed if render.resource_type(stack, r.name, r.type) in types]
        for row in listed:
            item = render.resource(req, stack, row, self._required_by(rows, row.name),
                                   nested.get(row.physical_resource_id or ""))
            if req.query.get("with_detail") in ("true", "True"):
                item.update(attributes=self._attributes(row), description="")
            shown.append(item)
        if levels:
            for row in rows:
                child = nested.get(row.physical_resource_id or "")
                if child is not None:
                    self._list(req, child, levels - 1, shown)

    def _find(self, stack: m.Stack, name: str) -> m.Resource:
        row = next((r for r in self._rows(stack) if r.name == name), None)
        if row is None:
            raise errors.ResourceNotFound(resource_name=name, stack_name=stack.name)
        return row

    @staticmethod
    def _attributes(row: m.Resource) -> dict:
        return {k: v for k, v in (row.attributes or {}).items()}

    @route.get(STACK + "/resources/{resource_name}", policy="resource:show")
    def show(self, req: ApiRequest) -> dict:
        stack = self._stack(req)
        row = self._find(stack, req.path_params["resource_name"])
        wanted = req.query.getlist("with_attr")
        attributes = self._attributes(row)
        if not wanted:
            attributes = {k: v for k, v in attributes.items() if k != "show"}
        item = render.resource(req, stack, row, self._required_by(self._rows(stack), row.name),
                               self._nested(stack).get(row.physical_resource_id or ""))
        template = self.manager.scope(stack, []).template
        definition = template.resources.get(row.name)
        item.update(attributes=attributes, description=definition.description if definition else "",
                    metadata=self._metadata(stack, row))
        return {"resource": item}

    def _metadata(self, stack: m.Stack, row: m.Resource) -> dict:
        cls = registry.TYPES.get(row.type)
        if cls is not None and cls.signals:  # a handle's metadata is its signals, as in Heat
            return dict((row.data or {}).get("signals") or {})
        scope = self.manager.scope(stack)
        definition = scope.template.resources.get(row.name)
        return (scope.resolve(definition.metadata) or {}) if definition else {}

    @route.patch(STACK + "/resources/{resource_name}", policy="resource:mark_unhealthy", body=schemas.MARK,
                 status=200)
    def mark_unhealthy(self, req: ApiRequest) -> None:
        """Mark a resource unhealthy (``CHECK_FAILED``: the next update replaces it) or
        healthy again (``CHECK_COMPLETE``)."""
        stack = self._stack(req)
        if stack.status == "IN_PROGRESS":
            raise errors.ActionInProgress(stack_name=stack.name, action=stack.action)
        row = self._find(stack, req.path_params["resource_name"])
        unhealthy = req.data["mark_unhealthy"]
        if not unhealthy and not (row.action == "CHECK" and row.status == "FAILED"):
            return None
        reason = req.data.get("resource_status_reason") or ("" if not unhealthy else "state changed by "
                                                                                     "resource_mark_unhealthy api")
        try:
            self.manager.store.move(row, stack, event_reason=reason, action="CHECK",
                                    status="FAILED" if unhealthy else "COMPLETE", status_reason=reason)
        except (StackMoved, RetriesExhausted):
            raise errors.ActionInProgress(stack_name=stack.name, action=stack.action) from None
        return None

    @route.post(STACK + "/resources/{resource_name}/signal", policy="resource:signal", body_required=False,
                status=200)
    def signal(self, req: ApiRequest) -> None:
        """A signal (a wait condition handle's: ``{"status", "reason", "data", "id"}``),
        from a caller the policy admits or with the handle's own token."""
        if actions.is_handle_context(req.caller):
            # The handle's token: checked against the handle itself below, instead of
            # the policy (which no role-less caller passes).
            req.authorized = True
            stack = self.manager.get(project(req), req.path_params["stack_name"], req.path_params["stack_id"])
            if stack.project_id != req.caller.project_id:
                raise errors.StackNotFound(req.path_params["stack_name"])
        else:
            stack = self._stack(req)
        row = self._find(stack, req.path_params["resource_name"])
        actions.signal(self.manager.store, req.caller, stack, row, req.json(required=False))

    @route.get(STACK + "/resources/{resource_name}/metadata", policy="resource:metadata")
    def metadata(self, req: ApiRequest) -> dict:
        stack = self._stack(req)
        return {"metadata": self._metadata(stack, self._find(stack, req.path_params["resource_name"]))}

    # -- events ----------------------------------------------------------------------------
    @route.get(STACK + "/events", policy="events:index")
    def events(self, req: ApiRequest) -> dict:
        return self._events(req, None)

    @route.get(STACK + "/resources/{resource_name}/events", policy="events:index")
    def resource_events(self, req: ApiRequest) -> dict:
        return self._events(req, req.path_params["resource_name"])

    def _events(self, req: ApiRequest, resource_name: str | None) -> dict:
        """The stack's events; with ``nested_depth``, those of its nested stacks that
        deep too, each linking the stack asked for as its ``root_stack``."""
        stack = self._stack(req)
        stacks = {stack.id: stack}
        levels = depth(req, "nested_depth")
        level, below = [stack.id], levels
        while level and below:
            children = self.manager.store.children(level)
            stacks.update({child.id: child for child in children})
            level, below = [child.id for child in children], below - 1
        root = stack if levels else None
        rows = self.manager.store.events(list(stacks), resource_name)
        if resource_name is not None and not rows:
            raise errors.ResourceNotFound(resource_name=resource_name, stack_name=stack.name)
        for key, attribute in (("resource_name", "resource_name"), ("resource_type", "resource_type"),
                               ("resource_action", "action"), ("resource_status", "status")):
            wanted = req.query.getlist(key)
            if wanted:
                rows = [r for r in rows if getattr(r, attribute) in wanted]
        if req.query.get("sort_dir") == "desc":
            rows.reverse()
        return {"events": [render.event(req, stacks[row.stack_id], row, root=root) for row in _paged(rows, req)]}

    @route.get(STACK + "/resources/{resource_name}/events/{event_id}", policy="events:show")
    def event(self, req: ApiRequest) -> dict:
        stack = self._stack(req)
        event_id = req.path_params["event_id"]
        row = next((e for e in self.manager.store.events(stack.id, req.path_params["resource_name"])
                    if e.id == event_id), None)
        if row is None:
            raise errors.EventNotFound(event_id)
        return {"event": render.event(req, stack, row, detail=True)}
