"""Request bodies of the Orchestration API (Heat's ``stacks`` controller fields)."""

_TEMPLATE = {"type": ["object", "string"]}
_MAP = {"type": ["object", "null"]}
_PARAMS = {"type": ["object", "null"], "additionalProperties": {}}
_TIMEOUT = {"type": ["integer", "null"], "minimum": 1}
_BOOL = {"type": ["boolean", "string"], "enum": [True, False, "true", "false", "True", "False"]}
_TAGS = {"type": ["string", "array", "null"], "items": {"type": "string"}}

_COMMON = {
    "template": _TEMPLATE, "template_url": {"type": ["string", "null"]}, "files": _MAP,
    "environment": {"type": ["object", "string", "null"]}, "environment_files": {"type": ["array", "null"]},
    "parameters": _PARAMS, "timeout_mins": _TIMEOUT, "disable_rollback": _BOOL, "tags": _TAGS,
    "files_container": {"type": ["string", "null"]},
}

CREATE = {"type": "object", "required": ["stack_name"],
          "properties": {"stack_name": {"type": "string"}, "adopt_stack_data": {}, **_COMMON}}
UPDATE = {"type": "object",
          "properties": {**_COMMON, "clear_parameters": {"type": ["array", "null"], "items": {"type": "string"}},
                         "existing": {}, "converge": {}}}
MARK = {"type": "object", "required": ["mark_unhealthy"], "additionalProperties": False,
        "properties": {"mark_unhealthy": {"type": "boolean"}, "resource_status_reason": {"type": ["string", "null"]}}}
CONFIG = {"type": "object", "properties": {
    "name": {"type": ["string", "null"], "maxLength": 255}, "group": {"type": ["string", "null"], "maxLength": 255},
    "config": {"type": ["string", "null"]}, "inputs": {"type": ["array", "null"], "items": {"type": "object"}},
    "outputs": {"type": ["array", "null"], "items": {"type": "object"}}, "options": {"type": ["object", "null"]}}}
_DEPLOYMENT_FIELDS = {
    "config_id": {"type": "string", "maxLength": 36}, "server_id": {"type": "string", "minLength": 1,
                                                                    "maxLength": 255},
    "action": {"type": ["string", "null"], "maxLength": 255}, "status": {"type": ["string", "null"], "maxLength": 255},
    "status_reason": {"type": ["string", "null"]}, "input_values": {"type": ["object", "null"]},
    "output_values": {"type": ["object", "null"]}, "stack_user_project_id": {"type": ["string", "null"]}}
DEPLOYMENT = {"type": "object", "required": ["config_id", "server_id"], "properties": {
    **_DEPLOYMENT_FIELDS, "id": {"type": ["string", "null"], "maxLength": 36}}}
DEPLOYMENT_UPDATE = {"type": "object", "properties": _DEPLOYMENT_FIELDS}
VALIDATE = {"type": "object", "properties": {**_COMMON, "show_nested": {}, "ignore_errors": {}}}
