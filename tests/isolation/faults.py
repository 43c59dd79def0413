"""pocketstack's fault rules API (``/_pocketstack/faults``) in the isolation matrix: the
cloud admin's alone (``pocketstack:faults`` is ``rule:admin_api``); everyone else gets
Keystone-format 403s.  The rules made here match no request (an object-store path that
does not exist)."""

from __future__ import annotations

from conftest import unique
from isolation.matrix import ADMIN_ONLY, Op, Resource

F = "/_pocketstack/faults"
HARMLESS = {"service": "object", "path": "/never-served/*", "action": "drop"}


def make_rule(w) -> dict:
    rule = w.call("POST", F, json={"fault": {**HARMLESS, "id": unique("iso-rule")}}).json()["fault"]
    return {"id": rule["id"]}


RESOURCES = [Resource("fault_rule", make_rule)]

OPS = [
    Op("fault-rule", "list", "GET", F, ADMIN_ONLY, everywhere=True),
    Op("fault-rule", "show", "GET", F + "/{fault_rule}", ADMIN_ONLY),
    Op("fault-rule", "create", "POST", F, ADMIN_ONLY, body={"fault": {**HARMLESS, "id": "{new}"}}, everywhere=True),
    Op("fault-rule", "delete", "DELETE", F + "/{fault_rule}", ADMIN_ONLY, consumes="fault_rule", everywhere=True),
]
