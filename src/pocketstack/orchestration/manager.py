"""The one public entry of Orchestration: prepare a stack from a request (template,
environment, parameters -- every check Heat makes before answering), record operations
and hand them to an engine over RPC; read stacks, resources, events and outputs.

Requests are checked here, synchronously, so a bad template is a 400 before anything is
recorded; the slow part (the resources) is the engine's (:mod:`.engine`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pocketstack.common.context import RequestContext
from pocketstack.common.db.base import utcnow
from pocketstack.orchestration import adoption, errors, lookups
from pocketstack.orchestration import models as m
from pocketstack.orchestration.adoption import ADOPT_KEY
from pocketstack.orchestration.engine.store import IN_PROGRESS, NewResource, Store
from pocketstack.orchestration.resources.base import Cloud, physical_name
from pocketstack.orchestration.resources.schema import check
from pocketstack.orchestration.resources.stack import PARENT_HEADER
from pocketstack.orchestration.software import Software
from pocketstack.orchestration.template import environment as environments
from pocketstack.orchestration.template.parameters import resolve_values
from pocketstack.orchestration.template.scope import ResourceState, StackScope
from pocketstack.orchestration.template.template import Template
from pocketstack.orchestration.trusts import Trustee

if TYPE_CHECKING:
    from pocketstack.orchestration.resources import registry
else:  # the resource types (and YAML) on first use: a stack, not every start
    from pocketstack.common.lazy import lazy

    registry = lazy("pocketstack.orchestration.resources.registry")

if TYPE_CHECKING:
    from pocketstack.common import rpc

NAME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9_.-]{0,254}$")
# How deep nested stacks may go (Heat's ``max_nested_stack_depth``).
MAX_NESTED_DEPTH = 5


@dataclass
class Prepared:
    """A request's stack, checked: template, environment, parameter values."""

    template: Template
    environment: dict[str, Any]
    params: dict[str, Any]
    scope: StackScope


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise errors.StackValidationFailed(
            message=f'Invalid stack name {name} must contain only alphanumeric or "_-." characters, must start with '
                    'alpha and must be 255 characters or less.')
    return name


class OrchestrationManager:
    def __init__(self, cloud: Any):
        self.cloud = cloud
        self.store = Store(cloud.db)
        self.software = Software(cloud.db)
        self.trustee = Trustee(cloud)
        self.client: rpc.RPCClient | None = None  # casts to the engines, once started

    # -- checking a request ---------------------------------------------------------------
    def prepare(self, body: dict[str, Any], *, stack_name: str, stack_id: str, project_id: str,
                base: m.Stack | None = None, validating: bool = False) -> Prepared:
        """Everything Heat checks before accepting a stack; with ``base`` (PATCH), what
        the body leaves out is the existing stack's."""
        template_raw = body.get("template")
        files = dict(body.get("files") or {})
        environment = environments.parse(body.get("environment"))
        given = {**(environment.get("parameters") or {}), **(body.get("parameters") or {})}
        if base is not None:
            if template_raw is None:
                template_raw = base.template
            files = {**(base.files or {}), **files}
            old_env = dict(base.environment or {})
            kept = {k: v for k, v in (old_env.get("parameters") or {}).items()
                    if k not in (body.get("clear_parameters") or [])}
            given = {**kept, **given}
            for section in ("parameter_defaults", "resource_registry"):
                environment[section] = {**(old_env.get(section) or {}), **(environment.get(section) or {})}
        if template_raw is None:
            if body.get("template_url"):
                raise errors.NotSupported(feature="template_url (send the template itself)")
            raise errors.InvalidTemplate(message="Need more arguments")
        template = registry.stack_template(template_raw, files, environment)
        environment["parameters"] = given
        values = resolve_values(template.parameters, given, environment.get("parameter_defaults") or {},
                                strict=False, allow_missing=validating)
        unknown = sorted(set(body.get("parameters") or {}) - set(template.parameters))
        if unknown:
            raise errors.UnknownUserParameter(key=unknown[0])
        scope = StackScope(template, values, stack_name=stack_name, stack_id=stack_id, project_id=project_id)
        scope.check_conditions()
        active = scope.active()
        template.graph(active)
        for name in active:
            self._check_resource(template, scope, name)
        self._check_attributes(template)
        return Prepared(template, environment, values, scope)

    @staticmethod
    def _check_resource(template: Template, scope: StackScope, name: str) -> None:
        definition = template.resources[name]
        if definition.type not in registry.TYPES and not registry.is_template(definition.type, template.files):
            raise errors.StackValidationFailed(message=errors.ResourceTypeNotFound(type_name=definition.type).message)
        plugin = registry.get(definition.type, template.files)
        resolved = scope.resolve(definition.properties) or {}
        if not plugin.open_properties:
            plugin.validate(check(plugin.properties, resolved, f"resources.{name}.properties", partial=True))

    @staticmethod
    def _check_attributes(template: Template) -> None:
        """``get_attr`` of an attribute the resource type does not have: 400 now."""
        nodes = [d.properties for d in template.resources.values()] + [o.get("value")
                                                                        for o in template.outputs.values()]
        for node in nodes:
            for name, attribute in _attribute_refs(node):
                definition = template.resources.get(name)
                cls = registry.TYPES.get(definition.type) if definition else None
                if cls is not None and not (cls.open_properties or cls.open_attributes) \
                        and attribute not in cls.attributes \
                        and attribute != "show":
                    raise errors.InvalidTemplateAttribute(resource=name, key=attribute)

    async def check_constraints(self, prepared: Prepared, token: str, project_id: str) -> None:
        if not any(p.custom_constraints() for p in prepared.template.parameters.values()):
            return
        async with self.cloud.api_client(token) as client:
            await lookups.check(Cloud(client, project_id), prepared.template.parameters, prepared.params)

    # -- operations ------------------------------------------------------------------------
    async def trust_for(self, context: RequestContext, stack: m.Stack) -> str:
        """The trust an operation on ``stack`` acts with: the stack's, whoever asks (its
        owner's, as in Heat); for a stack that holds none (made before trusts), one from
        the caller, as Heat stores credentials a stack lacks."""
        return stack.trust_id or await self.trustee.delegate(context, stack.project_id)

    async def release(self, stack: m.Stack) -> None:
        """Delete the trust of a stack that is going, unless another stack holds it too
        (a nested stack's is its parent's)."""
        if stack.trust_id and not await asyncio.to_thread(self.store.trust_held, stack.trust_id, stack.id):
            await self.trustee.release(stack.trust_id)

    def nesting(self, project_id: str, value: str) -> tuple[m.Stack, str]:
        """The parent stack and resource a new stack is the nested stack of, from the
        engine's :data:`PARENT_HEADER` (``<parent stack id>/<resource name>``): a
        template resource of the project's stack, being created, updated or adopted.
        400 otherwise, and past Heat's ``max_nested_stack_depth``."""
        stack_id, _, name = value.partition("/")
        parent = self.store.stack(stack_id, project_id) if stack_id else None
        row = next((r for r in self.store.resources(parent.id) if r.name == name), None) if parent else None
        if parent is None or row is None or row.status != IN_PROGRESS or not registry.is_template(row.type,
                                                                                                    parent.files):
            raise errors.InvalidParam(message=f"{PARENT_HEADER} names no template resource in progress: {value}")
        if parent.nested_depth >= MAX_NESTED_DEPTH:
            raise errors.RequestLimitExceeded(message=f"Recursion depth exceeds {MAX_NESTED_DEPTH}.")
        return parent, name

    def create(self, context: RequestContext, project_id: str, name: str, prepared: Prepared,
               body: dict[str, Any], trust_id: str, adopt: dict[str, dict[str, Any]] | None = None,
               parent: tuple[m.Stack, str] | None = None) -> m.Stack:
        """Record a new stack, acting with ``trust_id``, for an engine to create -- or,
        with ``adopt`` (each resource's entry of the adopt data), to adopt: every row keeps
        its entry (none for a resource the data lacks, which fails its adopt, as in Heat).
        With ``parent`` (:meth:`nesting`) it is that resource's nested stack."""
        action = "CREATE" if adopt is None else "ADOPT"
        timeout = body.get("timeout_mins")
        now = utcnow()
        stack = m.Stack(
            id=prepared.scope.pseudo["OS::stack_id"], name=name, project_id=project_id, user_id=context.user_id,
            username=context.user_name, template=prepared.template.raw, files=prepared.template.files,
            environment=prepared.environment, params=prepared.params, action=action, status=IN_PROGRESS,
            status_reason=f"Stack {action} started", timeout_mins=timeout, disable_rollback=body.get(
                "disable_rollback", True), tags=_tags(body.get("tags")), trust_id=trust_id,
            traversal=str(uuid.uuid4()), deadline=now + dt.timedelta(minutes=timeout) if timeout else None,
            created_at=now, owner_id=parent[0].id if parent else None, owner_resource=parent[1] if parent else None,
            nested_depth=parent[0].nested_depth + 1 if parent else 0)
        graph = prepared.template.graph(prepared.scope.active())
        resources = [NewResource(n, prepared.template.resources[n].type, physical_name(name, n), sorted(deps),
                                 {} if adopt is None else {ADOPT_KEY: adopt.get(n)})
                     for n, deps in graph.items()]
        return self.store.create_stack(stack, resources)

    def update(self, stack: m.Stack, prepared: Prepared, body: dict[str, Any], trust_id: str) -> None:
        if stack.action == "SUSPEND":
            raise errors.NotSupported(feature="Updating a stack when it is suspended")
        if stack.status == IN_PROGRESS:
            raise errors.ActionInProgress(stack_name=stack.name, action=stack.action)
        timeout = body.get("timeout_mins", stack.timeout_mins)
        values: dict[str, Any] = {
            "template": prepared.template.raw, "files": prepared.template.files,
            "environment": prepared.environment, "params": prepared.params, "timeout_mins": timeout,
            "deadline": utcnow() + dt.timedelta(minutes=timeout) if timeout else None,
            "trust_id": trust_id,
            "previous": {"template": stack.template, "files": stack.files, "params": stack.params,
                         "environment": stack.environment}}
        if "disable_rollback" in body:
            values["disable_rollback"] = body["disable_rollback"]
        if "tags" in body:
            values["tags"] = _tags(body["tags"])
        self.store.begin(stack, "UPDATE", "Stack UPDATE started", **values)

    def delete(self, stack: m.Stack, trust_id: str) -> None:
        self.store.begin(stack, "DELETE", "Stack DELETE started", trust_id=trust_id, deadline=None)

    def check_enabled(self, feature: str) -> None:
        """400 ``NotSupported`` for Heat's preview features while they are off (checked
        before the stack is looked for, as Heat's engine does)."""
        settings = self.cloud.settings
        on = {"Stack Abandon": settings.orchestration_enable_stack_abandon,
              "Stack Adopt": settings.orchestration_enable_stack_adopt}[feature]
        if not on:
            raise errors.NotSupported(feature=feature)

    def abandon(self, stack: m.Stack, *, remove: bool) -> dict[str, Any]:
        """Heat's abandon data of the stack; with ``remove`` (abandon, not export) the
        stack record is gone after, its physical resources left as they are."""
        nested = self.descendants(stack)
        data = self._abandon_data(stack, nested)
        if remove:
            self.store.abandon(stack, nested)
        return data

    def _abandon_data(self, stack: m.Stack, nested: list[m.Stack]) -> dict[str, Any]:
        """Heat's ``prepare_abandon``: a template resource's entry is its nested stack's data."""
        rows = self.store.resources(stack.id)
        scope = self.scope(stack, rows)
        metadata = {row.name: scope.resolve(scope.template.resources[row.name].metadata) or {}
                    for row in rows if row.name in scope.template.resources}
        inner = {child.owner_resource: self._abandon_data(child, nested) for child in nested
                 if child.owner_id == stack.id and child.owner_resource}
        return adoption.abandon_data(stack, rows, metadata, inner)

    def descendants(self, stack: m.Stack) -> list[m.Stack]:
        """Every live nested stack below ``stack``, level by level."""
        found: list[m.Stack] = []
        level = [stack.id]
        while level:
            children = self.store.children(level)
            found.extend(children)
            level = [child.id for child in children]
        return found

    async def cast(self, stack_id: str) -> None:
        """Have an engine drive the stack (any engine's sweep does, if this is lost)."""
        if self.client is not None:
            await self.client.cast("drive", stack_id=stack_id)

    # -- reads ------------------------------------------------------------------------------
    def find(self, project_id: str, name_or_id: str) -> m.Stack:
        stack = self.store.stack(name_or_id, project_id) or self.store.stack_by_name(name_or_id, project_id)
        if stack is None:
            raise errors.StackNotFound(name_or_id)
        return stack

    def get(self, project_id: str, name: str, stack_id: str) -> m.Stack:
        stack = self.store.stack(stack_id, project_id)
        if stack is None or stack.name != name:
            raise errors.StackNotFound(name)
        return stack

    def scope(self, stack: m.Stack, rows: list[m.Resource] | None = None) -> StackScope:
        rows = self.store.resources(stack.id) if rows is None else rows
        template = registry.stack_template(stack.template, stack.files, stack.environment)
        states = {row.name: ResourceState(row.physical_resource_id, row.attributes or {}) for row in rows
                  if row.physical_resource_id and not (row.action == "DELETE" and row.status == "COMPLETE")}
        return StackScope(template, stack.params or {}, stack_name=stack.name, stack_id=stack.id,
                          project_id=stack.project_id, resources=states)

    def outputs(self, stack: m.Stack) -> list[dict[str, Any]]:
        return self.scope(stack).outputs()


def _tags(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [t.strip() for t in str(value).split(",") if t.strip()]


def _attribute_refs(node: Any):
    if isinstance(node, dict):
        if len(node) == 1 and "get_attr" in node:
            args = node["get_attr"]
            if isinstance(args, list) and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
                yield args[0], args[1]
        for value in node.values():
            yield from _attribute_refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _attribute_refs(item)

