"""Stack abandon (and export) and adopt: a stack's record handed to the user as data,
and a new stack made from such data over the physical resources it names.

Heat's preview features, each behind a setting that is off by default as in Heat
(``orchestration_enable_stack_abandon``: abandon and export; ``..._adopt``): off, the
request is a 400 ``NotSupported`` (``Stack Abandon is not supported.``).

Abandon answers Heat's ``Stack.prepare_abandon`` data and removes the stack record in
one transaction (a new traversal, so an engine still driving it is refused its next
write) without touching a physical resource.  Adopt parses the data as Heat's API does
(a JSON or YAML string, or an object, with a ``template``), takes the template, files
and parameters from it (parameters given in the request win) and records each
resource's entry with its row; the engine's ``ADOPT`` traversal then takes the
physical ids over instead of creating anything (:meth:`Traversal._adopt`).
"""

from __future__ import annotations

from typing import Any

import yaml

from pocketstack.common import yamltext
from pocketstack.orchestration import errors
from pocketstack.orchestration import models as m

ADOPT_KEY = "adopt"  # a resource row's ``data`` key holding its adopt entry until adopted


def abandon_data(stack: m.Stack, rows: list[m.Resource], metadata: dict[str, Any],
                 nested: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Heat's abandon (and export) body: the stack, its user environment and each
    resource's physical id, state, metadata and private data -- or, for a template
    resource, its nested stack's own abandon data (``nested``, by resource name), as
    Heat's ``StackResource.prepare_abandon`` answers."""
    env = dict(stack.environment or {})
    environment = {"parameters": env.get("parameters") or {},
                   "parameter_defaults": env.get("parameter_defaults") or {},
                   "resource_registry": {"resources": {}, **(env.get("resource_registry") or {})},
                   "encrypted_param_names": [], "event_sinks": env.get("event_sinks") or [],
                   "parameter_merge_strategies": env.get("parameter_merge_strategies") or {}}
    resources = {row.name: {"name": row.name, "resource_id": row.physical_resource_id, "type": row.type,
                            "action": row.action, "status": row.status, "metadata": metadata.get(row.name) or {},
                            "resource_data": {k: v for k, v in (row.data or {}).items() if k != ADOPT_KEY}}
                 for row in rows if not (row.action == "DELETE" and row.status == "COMPLETE")}
    resources.update({name: data for name, data in nested.items() if name in resources})
    return {"name": stack.name, "id": stack.id, "action": stack.action, "status": stack.status,
            "environment": environment, "files": stack.files or {}, "template": stack.template,
            "resources": resources, "project_id": stack.project_id, "stack_user_project_id": stack.project_id,
            "tags": stack.tags or None}


def parse(raw: Any) -> dict[str, Any]:
    """``adopt_stack_data`` as Heat's API reads it (a string is JSON or YAML); 400
    ``Invalid adopt data`` for anything without a template."""
    data = raw
    if isinstance(raw, str):
        try:
            data = yamltext.load(raw)
        except yaml.YAMLError as error:
            raise errors.InvalidAdoptData(reason=str(error).splitlines()[0]) from None
    if not isinstance(data, dict):
        raise errors.InvalidAdoptData(reason="the data is not an object")
    if not isinstance(data.get("template"), (dict, str)):
        raise errors.InvalidAdoptData(reason="'template'")
    if not isinstance(data.get("resources") or {}, dict):
        raise errors.InvalidAdoptData(reason="'resources' is not an object")
    if not isinstance(data.get("files") or {}, dict):
        raise errors.InvalidAdoptData(reason="'files' is not an object")
    environment = data.get("environment") or {}
    if not isinstance(environment, dict) or not isinstance(environment.get("parameters") or {}, dict):
        raise errors.InvalidAdoptData(reason="'environment' is not an environment")
    return data


def request_body(body: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """The create request an adopt stands for: the data's template, its files under
    the request's, its parameters under the request's (Heat: "values given with -P
    override")."""
    given = (data.get("environment") or {}).get("parameters") or {}
    return {**body, "template": data["template"], "files": {**(data.get("files") or {}), **(body.get("files") or {})},
            "parameters": {**given, **(body.get("parameters") or {})}}


def entries(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each resource's adopt entry by name (what the row keeps until adopted)."""
    return {name: dict(entry) for name, entry in (data.get("resources") or {}).items() if isinstance(entry, dict)}
