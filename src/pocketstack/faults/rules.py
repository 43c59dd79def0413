"""What a fault rule is: its fields, their validation and what a rule matches.

A rule names what it matches (a service, an HTTP method, a path pattern -- a glob or a
regular expression over the path after the service's mount point, ``/v2.1/servers*`` --
or, for ``async_failure``, an asynchronous operation such as a server build), how often
(``probability``, drawn from a generator seeded with ``seed`` when one is given, so a
test sees the same outcomes each run; ``count``: at most that many times) and one action:
``latency``, ``error``, ``drop`` or ``async_failure``.  Bad rules are refused with a 400
that names the field, from the API and the ``faults_file`` alike.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from pocketstack.common.errors import BadRequest
from pocketstack.common.validation import validate

SERVICES = ("identity", "compute", "network", "volume", "image", "object", "placement")
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "COPY", "OPTIONS")
ACTIONS = ("latency", "error", "drop", "async_failure")
# The asynchronous operations an ``async_failure`` rule can fail, per service: where each
# service's worker calls its fail point.
OPERATIONS = {"compute": ("build",), "volume": ("create", "backup"), "image": ("import",)}
MAX_LATENCY_MS = 600_000

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"},
        "action": {"enum": list(ACTIONS)},
        "service": {"enum": list(SERVICES)},
        "method": {"type": "string", "minLength": 1, "maxLength": 16},
        "path": {"type": "string", "minLength": 1, "maxLength": 1024},
        "path_regex": {"type": "string", "minLength": 1, "maxLength": 1024},
        "operation": {"type": "string", "minLength": 1, "maxLength": 64},
        "probability": {"type": "number", "minimum": 0, "maximum": 1},
        "seed": {"type": "integer"},
        "count": {"type": "integer", "minimum": 1},
        "latency_ms": {"type": "integer", "minimum": 0, "maximum": MAX_LATENCY_MS},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "message": {"type": "string", "minLength": 1, "maxLength": 1024},
        "retry_after": {"type": "integer", "minimum": 0},
    },
    "required": ["action"],
    "additionalProperties": False,
}
# What each action needs, and what it cannot take.
_REQUIRED = {"latency": ("latency_ms",), "error": ("status",), "drop": (), "async_failure": ("service", "operation")}
_ONLY_FOR = {"latency_ms": ("latency",), "status": ("error",), "retry_after": ("error",),
             "message": ("error", "async_failure"), "operation": ("async_failure",)}
_REQUEST_FIELDS = ("method", "path", "path_regex")
_STATUSES = {status.value for status in HTTPStatus}


@dataclass(frozen=True)
class Rule:
    """One fault rule, as stored and as the API shows it (without its counters)."""

    id: str
    action: str
    service: str | None = None
    method: str | None = None
    path: str | None = None
    path_regex: str | None = None
    operation: str | None = None
    probability: float = 1.0
    seed: int | None = None
    count: int | None = None
    latency_ms: int | None = None
    status: int | None = None
    message: str | None = None
    retry_after: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """The rule's fields that are set (what the API shows and the database keeps)."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    def matches_request(self, service: str, method: str, path: str) -> bool:
        """Whether a request to ``service`` (``path`` below its mount point) is this
        rule's; an ``async_failure`` rule matches no request."""
        if self.action == "async_failure" or (self.service and self.service != service):
            return False
        if self.method and self.method != method:
            return False
        if self.path and not fnmatch.fnmatchcase(path, self.path):
            return False
        return not self.path_regex or _compiled(self.path_regex).search(path) is not None

    def matches_operation(self, service: str, operation: str) -> bool:
        return self.action == "async_failure" and self.service == service and self.operation == operation


_REGEX_CACHE: dict[str, re.Pattern[str]] = {}


def _compiled(pattern: str) -> re.Pattern[str]:
    compiled = _REGEX_CACHE.get(pattern)
    if compiled is None:
        compiled = _REGEX_CACHE[pattern] = re.compile(pattern)
    return compiled


def parse(data: Any, rule_id: str) -> Rule:
    """A :class:`Rule` from its JSON form (``rule_id`` unless it names its own id); a
    400 naming the field when it is not a valid rule."""
    fields = dict(validate(data, SCHEMA))
    action = fields["action"]
    for name in _REQUIRED[action]:
        if name not in fields:
            raise BadRequest(f"Invalid fault rule: action '{action}' needs '{name}'.")
    for name, actions in _ONLY_FOR.items():
        if name in fields and action not in actions:
            raise BadRequest(f"Invalid fault rule: '{name}' does not apply to action '{action}'.")
    if action == "async_failure":
        _check_operation(fields)
    if "status" in fields and fields["status"] not in _STATUSES:
        raise BadRequest(f"Invalid fault rule: 'status' {fields['status']} is not an HTTP status.")
    if "path" in fields and "path_regex" in fields:
        raise BadRequest("Invalid fault rule: give 'path' (a glob) or 'path_regex', not both.")
    if "path_regex" in fields:
        try:
            _compiled(fields["path_regex"])
        except re.error as error:
            raise BadRequest(f"Invalid fault rule: 'path_regex' is not a regular expression: {error}.") from None
    if "method" in fields:
        fields["method"] = fields["method"].upper()
        if fields["method"] not in METHODS:
            raise BadRequest(f"Invalid fault rule: 'method' must be one of {', '.join(METHODS)}.")
    fields.setdefault("id", rule_id)
    return Rule(**fields)


def _check_operation(fields: dict[str, Any]) -> None:
    service, operation = fields["service"], fields["operation"]
    known = OPERATIONS.get(service, ())
    if operation not in known:
        choices = ", ".join(f"{s}/{o}" for s, ops in OPERATIONS.items() for o in ops)
        raise BadRequest(f"Invalid fault rule: {service} has no asynchronous operation '{operation}' "
                         f"(one of: {choices}).")
    for name in _REQUEST_FIELDS:
        if name in fields:
            raise BadRequest(f"Invalid fault rule: an async_failure rule matches an operation, not '{name}'.")
