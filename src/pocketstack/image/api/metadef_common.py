"""Reading a metadefs request body the way Glance's deserializers do, and finding the
namespace a request is about."""

from __future__ import annotations

from typing import Any

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.validation import validate
from pocketstack.image import errors
from pocketstack.image.attributes import check_text
from pocketstack.image.manager import ImageManager
from pocketstack.image.metadefs.records import NamespaceView
from pocketstack.image.metadefs.schemas import READ_ONLY

NAMESPACES = "/v2/metadefs/namespaces"
NAMESPACE = NAMESPACES + "/{namespace}"


def checked_body(body: Any, schema: dict) -> dict[str, Any]:
    """``body`` if it is a JSON object fitting ``schema``: 403 for read-only attributes,
    400 unless it fits (or if it carries NUL characters, which PostgreSQL cannot store)."""
    if not isinstance(body, dict):
        raise errors.BodyNotObject()
    for key in READ_ONLY:
        if key in body:
            raise errors.ReadOnlyAttribute(name=key)
    validate(body, schema)
    check_text(body)
    return body


def authorize_namespace(req: ApiRequest, manager: ImageManager, rule: str) -> NamespaceView:
    """The namespace of the path (404 if the caller cannot see it), after ``rule`` (403)."""
    namespace = manager.namespaces.get_namespace(req.caller, req.path_params["namespace"])
    req.authorize(rule, namespace.policy_target())
    return namespace
