"""Reading a metadefs request body the way Glance's deserializers do."""

from __future__ import annotations

from typing import Any

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.validation import validate
from pocketstack.common.errors import BadRequest, Forbidden
from pocketstack.image.attributes import check_text
from pocketstack.image.metadefs.schemas import READ_ONLY


def read_body(req: ApiRequest, schema: dict) -> dict[str, Any]:
    """The JSON object of the request: 403 for read-only attributes, 400 unless it fits
    ``schema`` (or carries NUL characters, which PostgreSQL cannot store)."""
    body = req.json()
    if not isinstance(body, dict):
        raise BadRequest("Body expected in request: a JSON object.")
    for key in READ_ONLY:
        if key in body:
            raise Forbidden(f"Attribute '{key}' is read-only.")
    validate(body, schema)
    check_text(body)
    return body
