"""What a handler sees of a request, and how it answers with JSON."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.datastructures import Headers, QueryParams
from starlette.requests import Request
from starlette.responses import Response

from pocketstack.common import errors
from pocketstack.common.api.bodies import parse_json
from pocketstack.common.api.microversions import Version
from pocketstack.common.context import RequestContext
from pocketstack.common.policy import Enforcer

if TYPE_CHECKING:
    from pocketstack.common.api.routes import RouteSpec


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return value.strftime("%Y-%m-%dT%H:%M:%SZ")
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None,
                  media_type: str = "application/json") -> Response:
    return Response(json.dumps(body, default=_json_default), status_code=status,
                    headers=dict(headers or {}), media_type=media_type)


@dataclass
class ApiRequest:
    """What a handler sees: parsed pieces of the HTTP request plus the caller's context.

    ``data`` is the body already validated against the route's declared schema for the
    negotiated microversion; ``route`` is the declaration being served, whose ``policy``
    :meth:`authorize` enforces when no other rule is named."""

    raw: Request
    context: RequestContext | None
    enforcer: Enforcer
    body: bytes = b""
    attributes: dict[str, Any] = field(default_factory=dict)
    route: RouteSpec | None = None
    data: Any = None
    # Set once a policy rule was enforced: a route that declares a policy must check it.
    authorized: bool = False
    # A route declared ``authorize_first``: its body is validated by :meth:`authorize`.
    validate_later: Callable[[], None] | None = None

    @property
    def caller(self) -> RequestContext:
        """The authenticated caller.  Every route but a ``public`` one has one (the wrapper
        answers 401 before its handler runs); on a public route this is a 401 too."""
        if self.context is None:
            raise errors.Unauthorized("The request you have made requires authentication.")
        return self.context

    @property
    def method(self) -> str:
        return self.raw.method

    @property
    def path_params(self) -> dict[str, Any]:
        return self.raw.path_params

    @property
    def query(self) -> QueryParams:
        return self.raw.query_params

    @property
    def headers(self) -> Headers:
        return self.raw.headers

    @property
    def url(self) -> str:
        return str(self.raw.url)

    @property
    def service_url(self) -> str:
        """Absolute URL of the service root (its path prefix), for ``links``."""
        return str(self.attributes["service_url"])

    @property
    def version(self) -> Version | None:
        """The negotiated microversion; None for a service without microversions."""
        return self.attributes.get("version")

    def at_least(self, major: int, minor: int) -> bool:
        return self.version is not None and self.version >= (major, minor)

    def json(self, required: bool = True) -> Any:
        """The JSON body; 400 when it is missing (if required), not valid JSON or not
        storable (see :mod:`pocketstack.common.api.bodies`)."""
        if not self.body.strip():
            if required:
                raise errors.BadRequest("Malformed request body: a JSON body is required.")
            return None
        return parse_json(self.body)

    def authorize(self, rule: str | None = None, target: Mapping[str, Any] | None = None) -> None:
        """Enforce ``rule`` (default: the route's declared policy) for the caller on
        ``target``; 403 when refused."""
        rule = rule or (self.route.policy if self.route else None)
        if rule is None:
            raise RuntimeError("authorize() without a rule on a route that declares none")
        if self.context is None:
            raise errors.Unauthorized("The request you have made requires authentication.")
        self.enforcer.authorize(rule, self.context.credentials(), target)
        self.authorized = True
        if self.validate_later is not None:
            validate, self.validate_later = self.validate_later, None
            validate()

    def permits(self, target: Mapping[str, Any] | None = None, rule: str | None = None) -> bool:
        """Whether the caller passes ``rule`` (default: the route's declared policy) on
        ``target``, for a route that uses its policy as a filter rather than a gate -- a
        list hiding what the caller may not see, a 404 instead of a 403 that would confirm
        a thing exists.  Asking counts as enforcing the rule, whatever the answer."""
        rule = rule or (self.route.policy if self.route else None)
        if rule is None:
            raise RuntimeError("permits() without a rule on a route that declares none")
        self.authorized = True
        return self.allowed(rule, target)

    def allowed(self, rule: str, target: Mapping[str, Any] | None = None) -> bool:
        return self.context is not None and self.enforcer.check_rule(
            rule, self.context.credentials(), target or {})
