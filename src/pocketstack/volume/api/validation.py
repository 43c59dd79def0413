"""Request bodies checked the way Cinder checks them, and refused in Cinder's words.

Cinder validates with JSON Schema Draft 4, but compares ``minimum``/``maximum`` against
numbers given as strings too (``"new_size": "5"`` is a size), reports the *first* error
(not the "best" one) as ``Invalid input for field/attribute <name>. Value: <value>.
<reason>`` (the bare reason for the body itself), and has format checkers (``uuid``,
the statuses of ``os-reset_status``) some of which answer with their own message.  Every
refusal is a 400 in the Nova/Cinder fault format.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jsonschema
from jsonschema import Draft4Validator

from pocketstack.volume import errors
from pocketstack.volume.types import is_uuid_like

_Draft4 = Draft4Validator.VALIDATORS


def _number(value: Any) -> int | float | None:
    """What Cinder's min/max checks compare: the value, or the number a string spells."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    for kind in (int, float):
        try:
            return kind(value)
        except (TypeError, ValueError, OverflowError):
            continue
    return None


def _bounded(keyword: str):
    def check(validator, bound, instance, schema):
        number = _number(instance)
        if number is not None:
            yield from _Draft4[keyword](validator, bound, number, schema)
    return check


_CinderValidator = jsonschema.validators.extend(
    Draft4Validator, {"minimum": _bounded("minimum"), "maximum": _bounded("maximum")})
FORMATS = jsonschema.FormatChecker(formats=())
FORMATS.checks("uuid")(is_uuid_like)


def add_format(name: str, check: Callable[[Any], bool]) -> None:
    """A format whose checker may raise :class:`BadRequest` with Cinder's own message
    (Cinder's checkers for statuses do), or return False for the generic one."""
    FORMATS.checks(name)(check)


def validate(body: Any, schema: dict) -> Any:
    """``body`` if it matches ``schema``; else a 400 worded as Cinder words it."""
    # Not cached by the schema's id: callers build wrappers per request, and a freed dict's
    # id is reused; a validator is cheap to make (jsonschema compiles nothing up front).
    error = next(iter(_CinderValidator(schema, format_checker=FORMATS).iter_errors(body)), None)
    if error is None:
        return body
    if error.path:
        raise errors.ValidationError(field=error.path[-1], value=error.instance, reason=error.message)
    raise errors.InvalidBody(reason=error.message)


def validate_integer(value: Any, name: str, minimum: int, maximum: int) -> int:
    """oslo's ``strutils.validate_integer``, as Cinder uses it for quota values and
    ``offset``: the value's text must be an integer within the bounds."""
    try:
        number = int(str(value))
    except ValueError:
        raise errors.NotAnInteger(name=name) from None
    if number < minimum:
        raise errors.IntegerTooSmall(name=name, minimum=minimum)
    if number > maximum:
        raise errors.IntegerTooLarge(name=name, maximum=maximum)
    return number
