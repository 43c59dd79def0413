"""What the Networking API reads from a request, checked before any of it reaches the
database: the JSON body against the API's schema, and every string in the body or the
URL for a NUL, which no PostgreSQL text holds (SQLite and MariaDB would store it): a 400
on every backend instead of a database error on one.  (Lone UTF-16 surrogates and
integers beyond 64 bits are refused for every API when the body is parsed.)
"""

from __future__ import annotations

from typing import Any

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.validation import validate
from pocketstack.network import errors


def json_body(req: ApiRequest) -> Any:
    """The request's JSON body, with no NUL in any string."""
    data = req.json()
    _check_strings(data, "body")
    return data


def body(req: ApiRequest, schema: dict) -> Any:
    """The request's JSON body, NUL-free and valid for ``schema``."""
    return validate_body(req.json(), schema)


def validate_body(data: Any, schema: dict) -> Any:
    """The service's body validator (also for declared ``body=`` schemas): no NUL in any
    string, only attributes the resource has, then valid for ``schema``."""
    _check_strings(data, "body")
    check_attributes(data, schema)
    return validate(data, schema)


def check_attributes(data: Any, schema: dict) -> None:
    """Neutron's ``verify_attributes`` and read-only checks, before any value is looked
    at: for each resource body in ``data`` (``{"port": {...}}``, whose schema lists its
    attributes and carries ``x-read-only``), a 400 naming every attribute the resource
    does not have (those of unimplemented extensions too), else one naming the first
    read-only attribute it sets."""
    if not isinstance(data, dict):
        return
    for key, inner in schema.get("properties", {}).items():
        attrs = data.get(key)
        if "x-read-only" not in inner or not isinstance(attrs, dict):
            continue
        read_only = [name for name in inner["x-read-only"] if name in attrs]
        unknown = sorted(set(attrs) - set(inner["properties"]) - set(read_only))
        if unknown:
            raise errors.UnrecognizedAttributes(attributes=", ".join(unknown))
        if read_only:
            refusal = errors.AttributeNotAllowedInPost if inner["x-create"] else errors.ReadOnlyAttribute
            raise refusal(attribute=read_only[0])


def check_url(req: ApiRequest) -> None:
    """The service's ``prepare`` hook: 400 for a NUL in the path or the query string."""
    texts = [req.raw.url.path, *(text for item in req.query.multi_items() for text in item)]
    if any("\x00" in text for text in texts):
        raise errors.NulInUrl()


def _check_strings(value: Any, attribute: str) -> None:
    """400 naming the attribute (the innermost key) that holds a string with a NUL."""
    if isinstance(value, str):
        if "\x00" in value:
            raise errors.InvalidAttribute(attribute=attribute, reason="the string has a NUL character")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_strings(key, attribute)
            _check_strings(item, key)
    elif isinstance(value, list):
        for item in value:
            _check_strings(item, attribute)
