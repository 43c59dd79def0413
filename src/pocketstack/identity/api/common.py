"""Small helpers the Identity handlers share."""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.validation import parse_bool, validate


def body(req: ApiRequest, schema: dict, key: str) -> dict:
    """Validate the request body against ``schema`` and return its ``key`` object."""
    return validate(req.json(), schema)[key]


def split_extra(fields: dict, known: set[str]) -> tuple[dict, dict]:
    """Separate an entity's own attributes from the extra ones Keystone stores verbatim."""
    own = {k: v for k, v in fields.items() if k in known}
    extra = {k: v for k, v in fields.items() if k not in known}
    return own, extra


def filters(req: ApiRequest, keys: tuple[str, ...], bools: tuple[str, ...] = ("enabled",)) -> dict:
    result = {}
    for key in keys:
        value = req.query.get(key)
        if value is not None:
            result[key] = parse_bool(value, key) if key in bools else value
    return result
