"""Orchestration (Heat v1) in the isolation matrix: stacks, their resources, events,
outputs, templates, and the per-project informational routes.

Every Heat URL names a project; Heat's policy target is that project, so a persona of
another project gets 403 on A's stacks whatever the stack (heat/api/openstack/v1/util.py
``registered_policy_enforce``); through its own project's URL it finds nothing of A's
(404, heat/engine/service.py ``_get_stack``: the stack's tenant must be the caller's).
Readers read, members change (heat/policies/stacks.py).
"""

from __future__ import annotations

import time

from conftest import unique
from isolation.matrix import (
    BAD_REQUEST,
    CREATE,
    EVERYONE,
    FORBIDDEN,
    LISTED,
    NOT_FOUND,
    OK,
    UNLISTED,
    Op,
    Resource,
    expect,
)

A = "/orchestration/v1/{project_a}"
OWN = "/orchestration/v1/{me.project}"
STACK = A + "/stacks/{stack.name}/{stack}"
A_READ = expect(OK, OK, OK, FORBIDDEN, FORBIDDEN)
A_WRITE = expect(OK, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN)
TEMPLATE = {"heat_template_version": "2018-08-31", "resources": {
    "r": {"type": "OS::Heat::RandomString", "properties": {"length": 6}},
    "h": {"type": "OS::Heat::WaitConditionHandle"}},
    "outputs": {"value": {"value": {"get_attr": ["r", "value"]}}}}


def make_stack(w) -> dict:
    name = unique("iso-stack")
    project = w.persona("a_member").project
    made = w.call("POST", f"/orchestration/v1/{project}/stacks", "a_member",
                  json={"stack_name": name, "template": TEMPLATE}).json()["stack"]
    deadline = time.monotonic() + 30
    while True:
        stack = w.call("GET", f"/orchestration/v1/{project}/stacks/{name}/{made['id']}", "a_member").json()["stack"]
        if not stack["stack_status"].endswith("IN_PROGRESS"):
            break
        assert time.monotonic() < deadline, stack
        time.sleep(0.02)
    return {"id": made["id"], "name": name}


def make_software_config(w) -> dict:
    project = w.persona("a_member").project
    return w.call("POST", f"/orchestration/v1/{project}/software_configs", "a_member",
                  json={"name": unique("iso-config"), "group": "script", "config": "true"}).json()["software_config"]


RESOURCES = [Resource("stack", make_stack), Resource("software_config", make_software_config)]

OPS = [
    Op("stack", "list", "GET", OWN + "/stacks", expect(UNLISTED, LISTED, LISTED, UNLISTED, UNLISTED),
       watch="{stack}", everywhere=True),
    Op("stack", "list-with-nested", "GET", OWN + "/stacks?show_nested=True",
       expect(UNLISTED, LISTED, LISTED, UNLISTED, UNLISTED), watch="{stack}"),
    Op("stack", "list-global", "GET", OWN + "/stacks?global_tenant=true",
       expect(LISTED, LISTED, LISTED, UNLISTED, UNLISTED), watch="{stack}"),
    Op("stack", "show", "GET", STACK, A_READ, everywhere=True),
    Op("stack", "show-through-own-project", "GET", OWN + "/stacks/{stack.name}/{stack}",
       expect(NOT_FOUND, OK, OK, NOT_FOUND, NOT_FOUND)),
    Op("stack", "lookup", "GET", A + "/stacks/{stack.name}", A_READ),
    Op("stack", "template", "GET", STACK + "/template", A_READ),
    Op("stack", "environment", "GET", STACK + "/environment", A_READ),
    Op("stack", "files", "GET", STACK + "/files", A_READ),
    Op("stack", "outputs", "GET", STACK + "/outputs", A_READ),
    Op("stack", "output", "GET", STACK + "/outputs/value", A_READ),
    Op("stack", "resources", "GET", STACK + "/resources", A_READ),
    Op("stack", "resource", "GET", STACK + "/resources/r", A_READ),
    Op("stack", "events", "GET", STACK + "/events", A_READ),
    Op("stack", "resources-nested", "GET", STACK + "/resources?nested_depth=2", A_READ),
    Op("stack", "events-nested", "GET", STACK + "/events?nested_depth=2", A_READ),
    Op("stack", "create", "POST", OWN + "/stacks", CREATE, body={"stack_name": "{new}", "template": TEMPLATE},
       everywhere=True),
    # The engine's mark of a nested stack's create (a template resource's): nobody nests
    # a stack under A's stack unless its engine is making that resource (r is not one).
    Op("stack", "create-nested-in", "POST", OWN + "/stacks",
       expect(BAD_REQUEST, BAD_REQUEST, FORBIDDEN, BAD_REQUEST, FORBIDDEN),
       headers={"X-Pocketstack-Parent-Resource": "{stack}/r"}, body={"stack_name": "{new}", "template": TEMPLATE}),
    Op("stack", "preview", "POST", OWN + "/stacks/preview", CREATE, body={"stack_name": "{new}",
                                                                         "template": TEMPLATE}),
    Op("stack", "update", "PATCH", STACK, A_WRITE, body={"parameters": {}}, consumes="stack", everywhere=True),
    Op("stack", "delete", "DELETE", STACK, A_WRITE, consumes="stack", everywhere=True),
    # Actions: each its own rule (check is a reader's, as in Heat); suspend and check
    # change the stack's state, so each persona that may gets its own stack.
    Op("stack", "suspend", "POST", STACK + "/actions", A_WRITE, body={"suspend": None}, consumes="stack"),
    Op("stack", "check", "POST", STACK + "/actions", A_READ, body={"check": None}, consumes="stack"),
    Op("stack", "cancel-update-when-none", "POST", STACK + "/actions",
       expect(BAD_REQUEST, BAD_REQUEST, FORBIDDEN, FORBIDDEN, FORBIDDEN), body={"cancel_update": None}),
    # Abandon and export are off by default, as in Heat: the policy refuses first (403),
    # then the setting (400 NotSupported) -- nothing is removed.
    Op("stack", "abandon-when-disabled", "DELETE", STACK + "/abandon",
       expect(BAD_REQUEST, BAD_REQUEST, FORBIDDEN, FORBIDDEN, FORBIDDEN)),
    Op("stack", "export-when-disabled", "GET", STACK + "/export",
       expect(BAD_REQUEST, BAD_REQUEST, FORBIDDEN, FORBIDDEN, FORBIDDEN)),
    Op("stack", "signal-handle", "POST", STACK + "/resources/h/signal", A_WRITE, body={"status": "SUCCESS"}),
    Op("stack", "handle-metadata", "GET", STACK + "/resources/h/metadata", A_READ),
    Op("template", "validate", "POST", OWN + "/validate", CREATE, body={"template": TEMPLATE}),
    Op("resource_type", "list", "GET", OWN + "/resource_types", EVERYONE),
    Op("resource_type", "show", "GET", OWN + "/resource_types/OS::Heat::RandomString", EVERYONE),
    Op("template_version", "list", "GET", OWN + "/template_versions", EVERYONE),
    Op("build_info", "show", "GET", OWN + "/build_info", EVERYONE),
    Op("software_config", "list", "GET", OWN + "/software_configs",
       expect(UNLISTED, LISTED, LISTED, UNLISTED, UNLISTED), watch="{software_config}", everywhere=True),
    Op("software_config", "show", "GET", A + "/software_configs/{software_config}", A_READ, everywhere=True),
    Op("software_config", "show-through-own-project", "GET", OWN + "/software_configs/{software_config}",
       expect(NOT_FOUND, OK, OK, NOT_FOUND, NOT_FOUND)),
    Op("software_config", "create", "POST", OWN + "/software_configs", CREATE, body={"name": "{new}"}),
    Op("software_config", "delete", "DELETE", A + "/software_configs/{software_config}", A_WRITE,
       consumes="software_config", everywhere=True),
    Op("software_config", "deploy", "POST", A + "/software_deployments", A_WRITE,
       body={"config_id": "{software_config}", "server_id": "{new}"}),
    Op("software_config", "server-metadata", "GET", A + "/software_deployments/metadata/anything", A_READ),
]
