"""Request-body validation with JSON Schema, answered as a 400 in the service's format.

Schemas are plain dicts next to each API; ``additionalProperties: False`` is how an API
rejects unknown attributes.  Validators are compiled once per schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pocketstack.common.errors import BadRequest

if TYPE_CHECKING:
    from jsonschema import Draft7Validator

_validators: dict[int, Draft7Validator] = {}


def _validator(schema: dict[str, Any]) -> Draft7Validator:
    key = id(schema)
    validator = _validators.get(key)
    if validator is None:
        # jsonschema is imported by the first request that has a body to check, not at start.
        from jsonschema import Draft7Validator

        validator = _validators[key] = Draft7Validator(schema)
    return validator


def validate(body: Any, schema: dict[str, Any]) -> Any:
    """Return ``body`` if it matches ``schema``; raise 400 naming the offending field."""
    from jsonschema.exceptions import best_match

    error = best_match(_validator(schema).iter_errors(body))
    if error is None:
        return body
    path = ".".join(str(p) for p in error.absolute_path)
    if path:
        message = f"Invalid input for field '{path}': {error.message}"
    else:
        message = f"Invalid input: {error.message}"
    raise BadRequest(message)


# Reusable fragments.
ID = {"type": "string", "minLength": 1, "maxLength": 64}
NAME = {"type": "string", "minLength": 1, "maxLength": 255}
NULLABLE_ID = {"type": ["string", "null"], "minLength": 1, "maxLength": 64}
DESCRIPTION = {"type": ["string", "null"]}
BOOLEAN = {"type": "boolean"}


_BOOL_WORDS = {"true": True, "1": True, "yes": True, "on": True,
               "false": False, "0": False, "no": False, "off": False}


def parse_bool(value: str, name: str) -> bool:
    """Query-string booleans as OpenStack APIs accept them."""
    try:
        return _BOOL_WORDS[value.strip().lower()]
    except KeyError:
        raise BadRequest(f"Invalid value {value!r} for {name}: expected a boolean") from None


def query_flag(query: Mapping[str, str], name: str) -> bool:
    """A query flag like ``?nocatalog`` or ``?effective``: present means true unless its
    value is an explicit false."""
    if name not in query:
        return False
    value = query.get(name) or ""
    return True if value == "" else parse_bool(value, name)
