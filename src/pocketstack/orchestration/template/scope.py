"""The values a template's functions see in one stack: its parameters, the ids and
attributes of its resources so far, its files and its conditions.

The engine builds one from the database each time it resolves something; validation and
preview build one without resources (``get_resource`` gives the resource's name,
``get_attr`` gives null), as Heat does before anything exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pocketstack.orchestration import errors
from pocketstack.orchestration.template.functions import Evaluator
from pocketstack.orchestration.template.template import Template


@dataclass
class ResourceState:
    """What the functions may read of one resource: its physical id and attributes."""

    physical_id: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


class StackScope:
    def __init__(self, template: Template, params: Mapping[str, Any], *, stack_name: str, stack_id: str,
                 project_id: str, resources: Mapping[str, ResourceState] | None = None):
        self.template = template
        self.params = dict(params)
        self.pseudo = {"OS::stack_name": stack_name, "OS::stack_id": stack_id, "OS::project_id": project_id}
        self.resources = resources  # None: nothing exists yet (validate, preview)
        self._conditions: dict[str, bool] = {}
        self._evaluating: set[str] = set()
        self.evaluator = Evaluator(template.version, self)

    def resolve(self, node: Any) -> Any:
        return self.evaluator.resolve(node)

    # -- the Scope protocol --------------------------------------------------------------
    def param(self, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name not in self.params:
            raise errors.UnknownUserParameter(key=name)
        return self.params[name]

    def resource_id(self, name: str) -> Any:
        if name not in self.template.resources:
            raise errors.InvalidTemplateReference(resource=name, key="get_resource")
        if not self.is_active(name):
            return None
        if self.resources is None:
            return name
        state = self.resources.get(name)
        return state.physical_id if state is not None else None

    def attribute(self, name: str, attribute: str | None, path: list[Any]) -> Any:
        if name not in self.template.resources:
            raise errors.InvalidTemplateReference(resource=name, key="get_attr")
        if self.resources is None or not self.is_active(name):
            return None
        state = self.resources.get(name)
        if state is None:
            return None
        if attribute is None:
            return dict(state.attributes)
        value = state.attributes.get(attribute)
        for step in path:
            if isinstance(value, list):
                try:
                    value = value[int(step)]
                except (ValueError, TypeError, IndexError):
                    return None
            elif isinstance(value, dict):
                value = value.get(step)
            else:
                return None
        return value

    def file(self, name: str) -> str:
        if name not in self.template.files:
            raise errors.StackValidationFailed(
                message=f'No content found in the "files" section for get_file path: {name}')
        return self.template.files[name]

    def condition(self, name: str) -> bool:
        if name in self._conditions:
            return self._conditions[name]
        if name not in self.template.conditions:
            raise errors.StackValidationFailed(message=f'Invalid condition "{name}"')
        if name in self._evaluating:
            raise errors.StackValidationFailed(message=f'Circular definition for condition "{name}"')
        self._evaluating.add(name)
        try:
            value = self.evaluator.condition(self.template.conditions[name])
        finally:
            self._evaluating.discard(name)
        self._conditions[name] = value
        return value

    # -- what is in the stack --------------------------------------------------------------
    def is_active(self, name: str) -> bool:
        """Whether resource ``name`` exists in this stack (its ``condition`` holds)."""
        condition = self.template.resources[name].condition
        return True if condition is None else self.evaluator.condition(condition)

    def active(self) -> list[str]:
        return [name for name in self.template.resources if self.is_active(name)]

    def check_conditions(self) -> None:
        """Evaluate every condition once: a bad one is a 400 at create, not later."""
        for name in self.template.conditions:
            self.condition(name)

    def outputs(self) -> list[dict[str, Any]]:
        """Heat's ``outputs`` list: key, value (or error), description."""
        shown = []
        for key, body in self.template.outputs.items():
            if "condition" in body and not self.evaluator.condition(body["condition"]):
                continue
            entry: dict[str, Any] = {"output_key": key, "description": body.get("description") or
                                     "No description given"}
            try:
                entry["output_value"] = self.resolve(body.get("value"))
            except errors.ApiError as error:
                entry["output_value"] = None
                entry["output_error"] = error.message
            shown.append(entry)
        return shown
