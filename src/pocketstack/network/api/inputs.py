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
    string, then valid for ``schema``."""
    _check_strings(data, "body")
    return validate(data, schema)


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
