"""Request bodies checked the way Cinder checks them, and refused in Cinder's words.

Cinder validates with JSON Schema Draft 4, but compares ``minimum``/``maximum`` against
numbers given as strings too (``"new_size": "5"`` is a size), reports the *first* error
(not the "best" one) as ``Invalid input for field/attribute <name>. Value: <value>.
<reason>`` (the bare reason for the body itself), and has format checkers (``uuid``,
the statuses of ``os-reset_status``) some of which answer with their own message.  Every
refusal is a 400 in the Nova/Cinder fault format.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pocketstack.volume import errors
from pocketstack.volume.types import is_uuid_like

if TYPE_CHECKING:
    import jsonschema

# Format name -> checker; jsonschema's FormatChecker is made from them on the first
# validation (jsonschema is imported then: the volume API's first request with a body,
# not its first request).
_FORMATS: dict[str, Callable[[Any], bool]] = {"uuid": is_uuid_like}


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


@functools.cache
def _cinder_validator() -> tuple[type[jsonschema.protocols.Validator], jsonschema.FormatChecker]:
    """Draft 4 with Cinder's min/max, and the format checker of every :func:`add_format`
    (each is added when the schemas module is imported, before any body is validated)."""
    import jsonschema
    from jsonschema import Draft4Validator

    draft4 = Draft4Validator.VALIDATORS

    def bounded(keyword: str):
        def check(validator, bound, instance, schema):
            number = _number(instance)
            if number is not None:
                yield from draft4[keyword](validator, bound, number, schema)
        return check

    formats = jsonschema.FormatChecker(formats=())
    for name, check in _FORMATS.items():
        formats.checks(name)(check)
    return jsonschema.validators.extend(Draft4Validator, {"minimum": bounded("minimum"),
                                                          "maximum": bounded("maximum")}), formats


def add_format(name: str, check: Callable[[Any], bool]) -> None:
    """A format whose checker may raise :class:`BadRequest` with Cinder's own message
    (Cinder's checkers for statuses do), or return False for the generic one."""
    _FORMATS[name] = check
    _cinder_validator.cache_clear()


def validate(body: Any, schema: dict) -> Any:
    """``body`` if it matches ``schema``; else a 400 worded as Cinder words it."""
    # Not cached by the schema's id: callers build wrappers per request, and a freed dict's
    # id is reused; a validator is cheap to make (jsonschema compiles nothing up front).
    validator, formats = _cinder_validator()
    error = next(iter(validator(schema, format_checker=formats).iter_errors(body)), None)
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
