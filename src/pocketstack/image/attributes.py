"""Checks on the attributes a client sends, shared by create and JSON-patch updates.

Glance answers a read-only attribute with 403, a reserved one with 403, and a value
that does not fit the image schema with 400; these functions say exactly that.
"""

from __future__ import annotations

from typing import Any

from pocketstack.common.validation import validate
from pocketstack.image import errors
from pocketstack.image.schemas import IMAGE_VALIDATION, READ_ONLY, RESERVED, RESERVED_NAMESPACE

WRITABLE_BASE = ("name", "visibility", "protected", "os_hidden", "owner", "container_format",
                 "disk_format", "min_ram", "min_disk")
MAX_KEY_LENGTH = 255
MAX_INT = 2**31 - 1  # min_ram/min_disk are 32-bit columns


def check_name(name: str, *, allow_id: bool = False) -> None:
    """403 for read-only or reserved names, 400 for over-long property keys."""
    if name in READ_ONLY and not (allow_id and name == "id"):
        raise errors.ReadOnlyAttribute(name=name)
    if name in RESERVED or name.startswith(RESERVED_NAMESPACE):
        raise errors.ReservedAttribute(name=name)
    if len(name) > MAX_KEY_LENGTH:
        raise errors.PropertyNameTooLong()


def check_text(value: Any) -> None:
    """400 for NUL characters anywhere in ``value``: PostgreSQL cannot store them."""
    if isinstance(value, str):
        if "\x00" in value:
            raise errors.NulInText()
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key)
            check_text(item)
    elif isinstance(value, list):
        for item in value:
            check_text(item)


def check_values(values: dict[str, Any]) -> None:
    """400 unless every value fits the image schema (properties must be strings)."""
    validate(values, IMAGE_VALIDATION)
    check_text(values)
    for key in ("min_ram", "min_disk"):
        if key in values and values[key] < 0:
            raise errors.NegativeValue(name=key)
        if key in values and values[key] > MAX_INT:
            raise errors.ValueTooLarge(name=key, maximum=MAX_INT)
