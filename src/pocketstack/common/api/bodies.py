"""Parsing JSON request bodies into values every layer below can handle.

``json.loads`` accepts documents that no OpenStack resource can hold and that would
fail far from the request, as a 500: nesting deep enough to exhaust the interpreter's
recursion limit (in the decoder itself, or later in schema validation), lone UTF-16
surrogates (``"\\ud800"``: a ``str`` that cannot be encoded to UTF-8, so no database,
log line or response can carry it) and integers wider than the 64-bit columns they would
be stored in.  Refusing them here, once, turns each into a 400 in the service's own
error format before any handler sees the body.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pocketstack.common.errors import BadRequest

# No OpenStack request body comes near this; it keeps recursive consumers (schema
# validation, rendering) far from the interpreter's recursion limit.
MAX_DEPTH = 64
INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1


_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_BRACKET = re.compile(rb"[\[\]{}]")


def _nested_too_deep(raw: bytes) -> bool:
    """Whether the document nests deeper than :data:`MAX_DEPTH`, found without parsing it:
    the decoder would recurse once per level, and a ``RecursionError`` raised inside C
    code can leave CPython 3.11's recursion bookkeeping skewed for the rest of the
    process.  Cheap for ordinary bodies: fewer brackets than the limit cannot nest
    deeper."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return False
    depth = 0
    for bracket in _BRACKET.finditer(_STRING.sub(b'""', raw)):
        depth += 1 if bracket.group() in (b"[", b"{") else -1
        if depth > MAX_DEPTH:
            return True
    return False


def parse_json(raw: bytes) -> Any:
    """The document in ``raw``; :class:`BadRequest` when it is not one we can store."""
    if _nested_too_deep(raw):
        raise BadRequest(f"Malformed request body: JSON nested deeper than {MAX_DEPTH} levels.")
    try:
        value = json.loads(raw)
    except RecursionError:
        raise BadRequest("Malformed request body: JSON nested too deeply.") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"Malformed request body: {exc}") from None
    check_storable(value)
    return value


def check_storable(value: Any) -> None:
    """Walk ``value`` iteratively (recursion is what we guard against) checking depth,
    strings and integers; also for values decoded from elsewhere than a body (a query
    parameter holding JSON)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _check_string(item)
        elif isinstance(item, bool):
            continue
        elif isinstance(item, int):
            if not INT64_MIN <= item <= INT64_MAX:
                raise BadRequest(f"Invalid input: {item} is out of range (a 64-bit integer is the most "
                                 f"any field can hold).")
        elif isinstance(item, (dict, list)):
            if depth > MAX_DEPTH:
                raise BadRequest(f"Malformed request body: JSON nested deeper than {MAX_DEPTH} levels.")
            if isinstance(item, dict):
                for key, child in item.items():
                    _check_string(key)
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)


def _check_string(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest("Malformed request body: a string holds a lone UTF-16 surrogate, "
                         "which is not valid Unicode.") from None
