"""Request bodies of the security group proxy (``/os-security-groups``,
``/os-security-group-rules``) and the add/removeSecurityGroup server actions."""

from __future__ import annotations

_TEXT = {"type": "string"}
GROUP = {"type": "object", "required": ["security_group"], "properties": {"security_group": {
    "type": "object", "properties": {"name": _TEXT, "description": _TEXT}}}}
RULE = {"type": "object", "required": ["security_group_rule"], "properties": {"security_group_rule": {
    "type": "object", "required": ["parent_group_id"], "properties": {
        "parent_group_id": {"type": ["string", "integer"]}, "ip_protocol": {"type": ["string", "null"]},
        "from_port": {"type": ["string", "integer", "null"]}, "to_port": {"type": ["string", "integer", "null"]},
        "cidr": {"type": ["string", "null"]}, "group_id": {"type": ["string", "integer", "null"]}}}}}
SERVER_ACTION = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "minLength": 1}}}
