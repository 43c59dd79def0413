"""A parsed HOT template: its sections checked, its resources' definitions and the
dependency graph between them.

Parsing checks the shape (sections, resource keys, parameter schemas, references to
resources that exist); values are only known once a stack gives its parameters, so
resolving properties and outputs is the :class:`~.functions.Evaluator`'s job.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from pocketstack.common import yamltext
from pocketstack.orchestration import errors
from pocketstack.orchestration.template import versions
from pocketstack.orchestration.template.parameters import Parameter, parse_all

SECTIONS = ("heat_template_version", "description", "parameter_groups", "parameters", "resources", "outputs")
RESOURCE_KEYS = ("type", "properties", "metadata", "depends_on", "update_policy", "deletion_policy", "description")
RESOURCE_KEYS_2016 = RESOURCE_KEYS + ("condition", "external_id")
OUTPUT_KEYS = ("description", "value", "condition")
DELETION_POLICIES = ("Delete", "Retain", "Snapshot", "delete", "retain", "snapshot")
MAX_TEMPLATE_BYTES = 524288  # Heat's max_template_size


def load(text: str | bytes) -> dict[str, Any]:
    """A template or environment given as JSON or YAML text, as a mapping."""
    if len(text) > MAX_TEMPLATE_BYTES:
        raise errors.InvalidTemplate(message=f"Template size ({len(text)} bytes) exceeds maximum allowed size "
                                             f"({MAX_TEMPLATE_BYTES} bytes).")
    try:
        data = yamltext.load(text)  # dates stay strings, as Heat reads them
    except yaml.YAMLError as error:
        raise errors.InvalidTemplate(message=f"Error parsing template: {error}") from None
    if not isinstance(data, dict):
        raise errors.InvalidTemplate(message="The template is not a JSON object or YAML mapping.")
    return data


@dataclass
class ResourceDefinition:
    name: str
    type: str
    properties: Any = field(default_factory=dict)
    metadata: Any = None
    depends_on: list[str] = field(default_factory=list)
    condition: Any = None
    deletion_policy: str = "Delete"
    update_policy: Any = None
    description: str = ""
    external_id: Any = None


def references(node: Any) -> Iterator[str]:
    """Names of the resources a template node refers to (``get_resource``, ``get_attr``)."""
    if isinstance(node, dict):
        if len(node) == 1:
            key, args = next(iter(node.items()))
            if key == "get_resource" and isinstance(args, str):
                yield args
                return
            if key == "get_attr" and isinstance(args, list) and args and isinstance(args[0], str):
                yield args[0]
        for key, value in node.items():
            yield from references(key)
            yield from references(value)
    elif isinstance(node, list):
        for item in node:
            yield from references(item)


class Template:
    """One HOT template with the files (``get_file`` contents) sent beside it."""

    def __init__(self, raw: dict[str, Any], files: dict[str, str] | None = None):
        if not isinstance(raw, dict):
            raise errors.InvalidTemplate(message="The template is not a JSON object or YAML mapping.")
        self.raw = raw
        self.files = dict(files or {})
        if "heat_template_version" not in raw:
            if "AWSTemplateFormatVersion" in raw or "HeatTemplateFormatVersion" in raw:
                raise errors.NotSupported(feature="The CloudFormation (cfn) template format")
            raise errors.InvalidTemplateVersion(explanation="Template version was not provided")
        self.version = versions.find(raw["heat_template_version"])
        allowed = SECTIONS + (("conditions",) if self.version.has_conditions else ())
        for section in raw:
            if section not in allowed:
                raise errors.InvalidTemplateSection(section=section)
        self.description = raw.get("description") or ""
        self.parameters: dict[str, Parameter] = parse_all(raw.get("parameters"))
        self.parameter_groups = self._parameter_groups(raw.get("parameter_groups"))
        self.conditions = self._mapping("conditions")
        self.resources = {name: self._resource(name, body) for name, body in self._mapping("resources").items()}
        self.outputs = self._outputs()
        self._check_references()

    @classmethod
    def from_request(cls, template: Any, files: dict[str, str] | None = None) -> Template:
        if isinstance(template, str):
            template = load(template)
        return cls(template, files)

    def _mapping(self, section: str) -> dict[str, Any]:
        value = self.raw.get(section)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise errors.StackValidationFailed(message=f'Each "{section}" must be a map')
        return value

    def _parameter_groups(self, groups: Any) -> list[dict[str, Any]]:
        if groups is None:
            return []
        if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
            raise errors.StackValidationFailed(message="Parameter Groups error: parameter_groups must be a list")
        seen: set[str] = set()
        for group in groups:
            names = group.get("parameters")
            if not isinstance(names, list) or not names:
                raise errors.StackValidationFailed(
                    message="Parameter Groups error: parameter_groups.: The parameters must be provided for each "
                            "parameter group.")
            for name in names:
                if name not in self.parameters:
                    raise errors.StackValidationFailed(
                        message=f"Parameter Groups error: parameter_groups.{group.get('label', '')}: The grouped "
                                f"parameter {name} does not reference a valid parameter.")
                if name in seen:
                    raise errors.StackValidationFailed(
                        message=f"Parameter Groups error: parameter_groups.{group.get('label', '')}: The {name} "
                                f"parameter must be assigned to one parameter group only.")
                seen.add(name)
        return groups

    def _resource(self, name: str, body: Any) -> ResourceDefinition:
        if not isinstance(body, dict):
            raise errors.StackValidationFailed(message=f"Resource {name} definition must be a map")
        keys = RESOURCE_KEYS_2016 if self.version.has_conditions else RESOURCE_KEYS
        for key in body:
            if key not in keys:
                raise errors.StackValidationFailed(
                    message=f'"{key}" is not a valid keyword inside a resource definition')
        rtype = body.get("type")
        if not isinstance(rtype, str) or not rtype:
            raise errors.StackValidationFailed(message=f'Resource {name} is missing "type"')
        depends = body.get("depends_on") or []
        depends = [depends] if isinstance(depends, str) else depends
        if not isinstance(depends, list) or not all(isinstance(d, str) for d in depends):
            raise errors.StackValidationFailed(message=f'Resource {name} "depends_on" must be a list of names')
        properties = body.get("properties")
        if properties is not None and not isinstance(properties, dict):
            raise errors.StackValidationFailed(message=f'"properties" of resource {name} must be a map')
        policy = body.get("deletion_policy", "Delete")
        if policy not in DELETION_POLICIES:
            raise errors.StackValidationFailed(message=f'Invalid deletion policy "{policy}"')
        return ResourceDefinition(name, rtype, properties or {}, body.get("metadata"), depends,
                                  body.get("condition"), policy.capitalize(), body.get("update_policy"),
                                  body.get("description") or "", body.get("external_id"))

    def _outputs(self) -> dict[str, dict[str, Any]]:
        outputs = self._mapping("outputs")
        for name, body in outputs.items():
            if not isinstance(body, dict) or "value" not in body:
                raise errors.StackValidationFailed(message=f'Each output definition must contain a value key. '
                                                           f'Output "{name}"')
            for key in body:
                if key not in OUTPUT_KEYS:
                    raise errors.StackValidationFailed(message=f'"{key}" is not a valid keyword inside an output '
                                                               f'definition')
        return outputs

    def _check_references(self) -> None:
        for name, definition in self.resources.items():
            for ref in [*references(definition.properties), *references(definition.metadata)]:
                if ref not in self.resources:
                    raise errors.InvalidTemplateReference(resource=ref, key=f"{name}.properties")
            for ref in definition.depends_on:
                if ref not in self.resources:
                    raise errors.InvalidTemplateReference(resource=ref, key=name)
        for name, body in self.outputs.items():
            for ref in references(body.get("value")):
                if ref not in self.resources:
                    raise errors.InvalidTemplateReference(resource=ref, key=f"outputs.{name}.value")

    def requires(self, name: str, active: Iterable[str]) -> set[str]:
        """What resource ``name`` must wait for: the ones its properties and metadata
        refer to, and its ``depends_on``, among the ``active`` ones."""
        definition = self.resources[name]
        wanted = {*references(definition.properties), *references(definition.metadata), *definition.depends_on}
        return wanted & set(active) - {name}

    def graph(self, active: Iterable[str]) -> dict[str, set[str]]:
        """The dependency graph of the ``active`` resources; 400 on a cycle."""
        active = list(active)
        graph = {name: self.requires(name, active) for name in active}
        check_acyclic(graph)
        return graph

    def to_json(self) -> str:
        return json.dumps(self.raw)


def check_acyclic(graph: dict[str, set[str]]) -> None:
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycle = trail[trail.index(nxt):] + [nxt] if nxt in trail else [node, nxt]
                raise errors.CircularDependencyException(cycle=", ".join(cycle))
            if nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
