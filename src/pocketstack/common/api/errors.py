"""API errors and the per-service formats they are rendered in.

Handlers raise :class:`ApiError` subclasses; the app factory renders them with the
service's own ``ErrorFormat`` so each API answers exactly as its OpenStack counterpart:
Keystone's ``{"error": {...}}``, Nova/Cinder's ``{"badRequest": {...}}``, Neutron's
``{"NeutronError": {...}}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from http import HTTPStatus

from starlette.responses import Response


class ApiError(Exception):
    """An error with an HTTP status and a message safe to show the client."""

    status = 500

    def __init__(self, message: str | None = None, *, status: int | None = None,
                 error_type: str | None = None, headers: Mapping[str, str] | None = None):
        if status is not None:
            self.status = status
        self.message = message or HTTPStatus(self.status).phrase
        # A machine-readable kind, e.g. Neutron's "IpAddressGenerationFailure".
        self.error_type = error_type or type(self).__name__
        self.headers = dict(headers or {})
        super().__init__(self.message)

    @property
    def title(self) -> str:
        return HTTPStatus(self.status).phrase


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class MethodNotAllowed(ApiError):
    status = 405


class NotAcceptable(ApiError):
    status = 406


class Conflict(ApiError):
    status = 409


class Gone(ApiError):
    status = 410


class RequestEntityTooLarge(ApiError):
    status = 413


class UnsupportedMediaType(ApiError):
    status = 415


class RangeNotSatisfiable(ApiError):
    status = 416


class NotImplementedYet(ApiError):
    status = 501


class ServiceUnavailable(ApiError):
    status = 503


class InternalError(ApiError):
    status = 500

    def __init__(self, message: str | None = None, **kwargs):
        super().__init__(message or "An unexpected error prevented the server from fulfilling your request.",
                         **kwargs)


ErrorFormat = Callable[[ApiError], Response]


def _json(status: int, body: dict, headers: Mapping[str, str]) -> Response:
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
