"""The per-service formats API errors are rendered in.

Logic raises :class:`~pocketstack.common.errors.ApiError` subclasses; the app factory
renders them with the service's own ``ErrorFormat`` so each API answers exactly as its
OpenStack counterpart: Keystone's ``{"error": {...}}``, Nova/Cinder's
``{"badRequest": {...}}``, Neutron's ``{"NeutronError": {...}}``, Swift's plain text.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from starlette.responses import Response

from pocketstack.common.errors import ApiError

ErrorFormat = Callable[[ApiError], Response]


def _json(status: int, body: dict[str, Any], headers: Mapping[str, str]) -> Response:
    return Response(json.dumps(body), status_code=status, headers=dict(headers),
                    media_type="application/json")


def keystone_format(error: ApiError) -> Response:
    body = {"error": {"code": error.status, "title": error.title, "message": error.message}}
    return _json(error.status, body, error.headers)


# Nova's and Cinder's fault wrapper names, by status.
_FAULT_NAMES = {400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound",
                405: "badMethod", 406: "notAcceptable", 409: "conflictingRequest",
                413: "overLimit", 415: "badMediaType", 429: "overLimit",
                501: "notImplemented", 503: "serviceUnavailable"}


def fault_format(error: ApiError) -> Response:
    name = _FAULT_NAMES.get(error.status, "computeFault")
    return _json(error.status, {name: {"message": error.message, "code": error.status}}, error.headers)


def neutron_format(error: ApiError) -> Response:
    body = {"NeutronError": {"type": error.error_type, "message": error.message, "detail": ""}}
    return _json(error.status, body, error.headers)


def plain_format(error: ApiError) -> Response:
    """Swift/Glance style: a short HTML-free text body."""
    text = f"{error.status} {error.title}\n\n{error.message}\n"
    return Response(text, status_code=error.status, headers=dict(error.headers),
                    media_type="text/plain")
