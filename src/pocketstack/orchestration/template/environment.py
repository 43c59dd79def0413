"""Environments: parameter values, parameter defaults and the resource registry.

The registry maps a type name to another type (``"OS::Nova::Server": "OS::Heat::None"``
stubs servers out) or to a template file sent in ``files`` (a template resource); a
mapping to anything else (a URL to fetch) is refused with Heat's NotSupported.
"""

from __future__ import annotations

from typing import Any

from pocketstack.orchestration import errors
from pocketstack.orchestration.template.template import Template, load

SECTIONS = ("parameters", "parameter_defaults", "resource_registry", "event_sinks", "encrypted_param_names",
            "parameter_merge_strategies")


def parse(environment: Any) -> dict[str, Any]:
    if environment is None:
        return {}
    if isinstance(environment, str):
        environment = load(environment) if environment.strip() else {}
    if not isinstance(environment, dict):
        raise errors.InvalidTemplate(message="The environment is not a valid YAML mapping data type.")
    for section in environment:
        if section not in SECTIONS:
            raise errors.InvalidTemplate(message=f"environment has unknown section \"{section}\"")
    for section in ("parameters", "parameter_defaults", "resource_registry"):
        if not isinstance(environment.get(section) or {}, dict):
            raise errors.InvalidTemplate(message=f"environment section \"{section}\" must be a map")
    return environment


def apply_registry(template: Template, environment: dict[str, Any], known: set[str]) -> None:
    """Rewrite the template's resource types through the registry (type aliases only)."""
    registry = {k: v for k, v in (environment.get("resource_registry") or {}).items() if k != "resources"}
    for definition in template.resources.values():
        target = registry.get(definition.type)
        if target is None:
            continue
        if not isinstance(target, str) or target not in known:
            raise errors.NotSupported(feature=f"Mapping {definition.type} to a template resource ({target})")
        definition.type = target
