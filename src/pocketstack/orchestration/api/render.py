"""Stacks, resources, events and outputs in Heat's response shapes."""

from __future__ import annotations

import json
from typing import Any

from pocketstack.common.api.request import ApiRequest
from pocketstack.orchestration import models as m
from pocketstack.orchestration.api.common import iso, project
from pocketstack.orchestration.template.parameters import PSEUDO
from pocketstack.orchestration.template.template import Template


def stack_url(req: ApiRequest, stack: m.Stack) -> str:
    return f"{req.service_url}/v1/{project(req)}/stacks/{stack.name}/{stack.id}"


def status(action: str, state: str) -> str:
    return f"{action}_{state}"


def stack(req: ApiRequest, row: m.Stack) -> dict[str, Any]:
    return {"id": row.id, "stack_name": row.name, "description": (row.template or {}).get("description") or "",
            "creation_time": iso(row.created_at), "updated_time": iso(row.updated_at),
            "deletion_time": iso(row.deleted_at), "stack_status": status(row.action, row.status),
            "stack_status_reason": row.status_reason, "stack_owner": row.username, "parent": row.owner_id,
            "stack_user_project_id": row.project_id, "tags": row.tags or None,
            "links": [{"href": stack_url(req, row), "rel": "self"}]}


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parameters(row: m.Stack, template: Template) -> dict[str, str]:
    shown = {name: "******" if template.parameters[name].hidden else _shown(value)
             for name, value in (row.params or {}).items() if name in template.parameters}
    shown.update(dict(zip(PSEUDO, (row.name, row.id, row.project_id))))
    return shown


def stack_detail(req: ApiRequest, row: m.Stack, outputs: list[dict[str, Any]]) -> dict[str, Any]:
    template = Template.from_request(row.template, row.files)
    return {**stack(req, row), "capabilities": [], "disable_rollback": row.disable_rollback,
            "notification_topics": [], "outputs": outputs, "parameters": parameters(row, template),
            "template_description": template.description, "timeout_mins": row.timeout_mins}


def resource_type(stack_row: m.Stack, name: str, stored: str) -> str:
    """The type as Heat shows it: as the template writes it (``My::Echo``), where the
    environment's registry maps it to what the engine runs (``nested.yaml``)."""
    written = ((stack_row.template or {}).get("resources") or {}).get(name)
    alias = written.get("type") if isinstance(written, dict) else None
    registry = (stack_row.environment or {}).get("resource_registry") or {}
    return alias if isinstance(alias, str) and registry.get(alias) == stored else stored


def resource(req: ApiRequest, stack_row: m.Stack, row: m.Resource, required_by: list[str],
             nested: m.Stack | None = None) -> dict[str, Any]:
    """Heat's resource; ``parent_resource`` names the parent's resource for a nested
    stack's, and a template resource links its ``nested`` stack."""
    base = stack_url(req, stack_row)
    links = [{"href": f"{base}/resources/{row.name}", "rel": "self"}, {"href": base, "rel": "stack"}]
    if nested is not None:
        links.append({"href": stack_url(req, nested), "rel": "nested"})
    return {"resource_name": row.name, "logical_resource_id": row.name,
            "physical_resource_id": row.physical_resource_id or "",
            "resource_status": status(row.action, row.status), "resource_status_reason": row.status_reason,
            "resource_type": resource_type(stack_row, row.name, row.type), "creation_time": iso(row.created_at),
            "updated_time": iso(row.updated_at or row.created_at),
            "required_by": required_by, "parent_resource": stack_row.owner_resource, "links": links}


def event(req: ApiRequest, stack_row: m.Stack, row: m.Event, detail: bool = False,
          root: m.Stack | None = None) -> dict[str, Any]:
    """Heat's event; listed with ``nested_depth``, each links its ``root_stack``."""
    base = stack_url(req, stack_row)
    shown: dict[str, Any] = {"id": row.id, "event_time": iso(row.created_at), "resource_name": row.resource_name,
             "logical_resource_id": row.resource_name, "physical_resource_id": row.physical_resource_id or "",
             "resource_status": status(row.action, row.status), "resource_status_reason": row.reason,
             "links": [{"href": f"{base}/resources/{row.resource_name}/events/{row.id}", "rel": "self"},
                       {"href": f"{base}/resources/{row.resource_name}", "rel": "resource"},
                       {"href": base, "rel": "stack"}]}
    if root is not None:
        shown["links"].append({"href": stack_url(req, root), "rel": "root_stack"})
    if detail:
        shown.update(resource_type=resource_type(stack_row, row.resource_name, row.resource_type),
                     resource_properties={})
    return shown
