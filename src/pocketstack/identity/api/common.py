"""Small helpers the Identity handlers share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.validation import parse_bool, validate
from pocketstack.identity import errors

if TYPE_CHECKING:
    from pocketstack.identity.auth import ValidatedToken
    from pocketstack.identity.manager import Identity


def body(req: ApiRequest, schema: dict, key: str) -> dict:
    """Validate the request body against ``schema`` and return its ``key`` object.  For
    routes that authorize (403) before they validate (400), as Keystone's do."""
    return validate(req.json(), schema)[key]


def caller_id(req: ApiRequest) -> str:
    """The calling user's id: every token names its user (401 on a public route)."""
    user_id = req.caller.user_id
    if user_id is None:
        raise errors.AuthenticationRequired()
    return user_id


def split_extra(fields: dict, known: set[str] | frozenset[str]) -> tuple[dict, dict]:
    """Separate an entity's own attributes from the extra ones Keystone stores verbatim."""
    own = {k: v for k, v in fields.items() if k in known}
    extra = {k: v for k, v in fields.items() if k not in known}
    return own, extra


def filters(req: ApiRequest, keys: tuple[str, ...], bools: tuple[str, ...] = ("enabled",)) -> dict[str, Any]:
    """The query's filters among ``keys``; ``bools`` parsed as booleans (400 if not one)."""
    result: dict[str, Any] = {}
    for key in keys:
        value = req.query.get(key)
        if value is not None:
            result[key] = parse_bool(value, key) if key in bools else value
    return result


def federated_token(identity: Identity, idp_id: str, protocol_id: str, assertion: dict[str, str]) -> ValidatedToken:
    """An unscoped token for ``assertion`` through the protocol's mapping; its
    ``methods`` are the protocol (Keystone's dedicated URL and WebSSO)."""
    auth = {"identity": {"methods": [protocol_id], protocol_id: {
        "identity_provider": idp_id, "protocol": protocol_id}}}
    return identity.tokens.authenticate(auth, assertion=assertion)
