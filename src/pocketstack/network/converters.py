"""Neutron's attribute converters and validators (``neutron_lib.api.converters`` and
``validators``) where pocketstack needs them, with Neutron's messages: an integer sent as
a string is converted, anything else is a 400 before it can reach the database."""

from __future__ import annotations

import uuid as uuid_module
from typing import Any

from pocketstack.network import errors

# Neutron's DB_INTEGER_MAX_VALUE: the largest value of an INTEGER column.
DB_INTEGER_MAX = 2 ** 31 - 1


def to_int(value) -> int:
    """``convert_to_int``: an int, or a string of one (400 ``InvalidInput`` otherwise)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise errors.InvalidInput(error_message=f"'{value}' is not an integer") from None


def to_boolean(attribute: str, value) -> bool:
    """``convert_to_boolean``: a boolean, 0 or 1, or a string of one of them."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false", "0", "1"):
        return value.lower() in ("true", "1")
    raise errors.InvalidInput(error_message=f"'{value}' cannot be converted to boolean")


def in_range(attribute: str, value: int, lowest: int, highest: int) -> int:
    """``type:range``: ``lowest <= value <= highest``."""
    if value < lowest:
        raise invalid_attribute(attribute, f"'{value}' is too small - must be at least '{lowest}'")
    if value > highest:
        raise invalid_attribute(attribute, f"'{value}' is too large - must be no larger than '{highest}'")
    return value


def non_negative(attribute: str, value: int) -> int:
    """``type:non_negative``."""
    if value < 0:
        raise invalid_attribute(attribute, f"'{value}' should be non-negative")
    return value


def one_of(attribute: str, value: str, values: list[str]) -> str:
    """``type:values``."""
    if value not in values:
        raise invalid_attribute(attribute, f"{value} is not in {values}")
    return value


def max_length(attribute: str, value: str, limit: int) -> str:
    """``type:string`` with a maximum length (the column's)."""
    if len(value) > limit:
        raise invalid_attribute(attribute, f"'{value}' exceeds maximum length of {limit}")
    return value


def uuid(attribute: str, value: str) -> str:
    """``type:uuid``: a UUID as Neutron's ``is_uuid_like`` takes it (dashes optional)."""
    try:
        like = uuid_module.UUID(value).hex == value.replace("-", "").lower()
    except (TypeError, ValueError, AttributeError):
        like = False
    if not like:
        raise invalid_attribute(attribute, f"'{value}' is not a valid UUID")
    return value


def is_uuid(value: Any) -> bool:
    """``uuidutils.is_uuid_like``: a UUID in any of its spellings (dashes, braces, case)."""
    if not isinstance(value, str):
        return False
    try:
        canonical = str(uuid_module.UUID(value)).replace("-", "")
    except ValueError:
        return False
    return canonical == value.replace("urn:", "").replace("uuid:", "").strip("{}").replace("-", "").lower()


def invalid_attribute(attribute: str, reason: str):
    """The 400 Neutron answers when an attribute fails its validator."""
    return errors.InvalidAttribute(attribute=attribute, reason=reason)
