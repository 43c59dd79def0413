"""The errors logic raises, for the API layer to render in each service's format.

An error knows its HTTP status and a message safe to show the client; nothing here
imports the web layer, so managers, drivers and workers raise these without depending on
it (:mod:`pocketstack.common.api.errors` renders them).  Services name their errors in
their own ``errors.py``: a subclass with the status it maps to and a ``msg_fmt`` whose
fields the raiser passes (``FlavorNotFound(flavor_id=...)``), as Nova's exceptions do.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any


class ApiError(Exception):
    """An error with an HTTP status and a message safe to show the client.

    A named subclass sets ``msg_fmt`` (``"Flavor {flavor_id} could not be found."``) and
    is raised with the fields as keywords, which stay on the error as ``fields``; a plain
    message still works for the generic classes below."""

    status = 500
    msg_fmt: str | None = None
    # The machine-readable kind clients see (Neutron's "type", Placement's "code");
    # default: the class name.
    code: str | None = None

    def __init__(self, message: str | None = None, *, status: int | None = None,
                 error_type: str | None = None, headers: Mapping[str, str] | None = None, **fields: Any):
        if status is not None:
            self.status = status
        self.fields = fields
        if message is None and self.msg_fmt is not None:
            message = self.msg_fmt.format(**fields)
        self.message = message or HTTPStatus(self.status).phrase
        # A machine-readable kind, e.g. Neutron's "IpAddressGenerationFailure".
        self.error_type = error_type or self.code or type(self).__name__
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

    def __init__(self, message: str | None = None, **kwargs: Any):
        super().__init__(message or "An unexpected error prevented the server from fulfilling your request.",
                         **kwargs)
