"""The ASGI app factory every service API is built with.

A service declares its routes on a :class:`Router`; :func:`build_app` turns them into a
Starlette app whose single endpoint wrapper does, for every request and in this order:
request id, the service's ``prepare`` hook (header-only work such as microversion
negotiation), body reading (bounded; skipped for streaming routes), token validation into
a :class:`RequestContext`, the handler (sync handlers run in the same worker-thread trip
as the validation, so database calls never block the event loop), rendering of the
result, and rendering of any error in the service's own format.  Doing this in one wrapper instead of a middleware stack keeps the hot path
short and the data flow obvious.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pocketstack.common import errors
from pocketstack.common.api.bodies import parse_json
from pocketstack.common.api.context import RequestContext
from pocketstack.common.api.db_errors import api_error_for
from pocketstack.common.api.errors import ErrorFormat
from pocketstack.common.db.replay import run_replayable
from pocketstack.common.log import request_id_var
from pocketstack.common.policy import Enforcer

LOG = logging.getLogger(__name__)
MAX_JSON_BODY = 1024 * 1024


class TokenValidator(Protocol):
    """Turns an ``X-Auth-Token`` into a context, raising ``Unauthorized`` if it is not valid."""

    def __call__(self, token: str) -> RequestContext: ...


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
    """What a handler sees: parsed pieces of the HTTP request plus the caller's context."""

    raw: Request
    context: RequestContext | None
    enforcer: Enforcer
    body: bytes = b""
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def method(self) -> str:
        return self.raw.method

    @property
    def path_params(self) -> dict[str, Any]:
        return self.raw.path_params

    @property
    def query(self):
        return self.raw.query_params

    @property
    def headers(self):
        return self.raw.headers

    @property
    def url(self) -> str:
        return str(self.raw.url)

    @property
    def service_url(self) -> str:
        """Absolute URL of the service root (its path prefix), for ``links``."""
        return self.attributes["service_url"]

    def json(self, required: bool = True) -> Any:
        """The JSON body; 400 when it is missing (if required), not valid JSON or not
        storable (see :mod:`pocketstack.common.api.bodies`)."""
        if not self.body.strip():
            if required:
                raise errors.BadRequest("Malformed request body: a JSON body is required.")
            return None
        return parse_json(self.body)

    def authorize(self, rule: str, target: Mapping[str, Any] | None = None) -> None:
        """Enforce policy ``rule`` for the caller on ``target``; 403 when refused."""
        if self.context is None:
            raise errors.Unauthorized("The request you have made requires authentication.")
        self.enforcer.authorize(rule, self.context.credentials(), target)

    def allowed(self, rule: str, target: Mapping[str, Any] | None = None) -> bool:
        return self.context is not None and self.enforcer.check_rule(
            rule, self.context.credentials(), target or {})


Handler = Callable[[ApiRequest], Any]


@dataclass
class RouteSpec:
    method: str
    path: str
    handler: Handler
    public: bool = False
    stream: bool = False


class Router:
    """Collects a service's routes: ``@router.get("/v3/users/{user_id}")``."""

    def __init__(self) -> None:
        self.routes: list[RouteSpec] = []

    def route(self, method: str, path: str, *, public: bool = False, stream: bool = False):
        def register(handler: Handler) -> Handler:
            self.routes.append(RouteSpec(method.upper(), path, handler, public, stream))
            return handler
        return register

    def get(self, path: str, **kw):
        return self.route("GET", path, **kw)

    def post(self, path: str, **kw):
        return self.route("POST", path, **kw)

    def put(self, path: str, **kw):
        return self.route("PUT", path, **kw)

    def patch(self, path: str, **kw):
        return self.route("PATCH", path, **kw)

    def delete(self, path: str, **kw):
        return self.route("DELETE", path, **kw)

    def head(self, path: str, **kw):
        return self.route("HEAD", path, **kw)


@dataclass
class ServiceSpec:
    """Everything :func:`build_app` needs to know about one service."""

    name: str
    router: Router
    error_format: ErrorFormat
    enforcer: Enforcer
    validate_token: TokenValidator
    # Absolute public URL of the service root, e.g. http://127.0.0.1:8780/identity.
    service_url: str
    # Header value for 401s, e.g. 'Keystone uri="http://127.0.0.1:8780/identity"'.
    www_authenticate: str
    # Called first on every request, on the event loop, before the token is validated:
    # header-only work such as microversion negotiation; may set attributes.
    prepare: Callable[[ApiRequest], None] | None = None
    # Called on every response, e.g. to add microversion headers.
    finish: Callable[[ApiRequest, Response], None] | None = None
    max_body: int = MAX_JSON_BODY
    # Nova, Glance and Cinder answer 404 for an empty id (``DELETE /v2/images/``) where
    # the router would redirect to the collection: see :func:`_empty_id_routes`.
    empty_id_not_found: bool = False


def _to_response(result: Any) -> Response:
    if isinstance(result, Response):
        return result
    if result is None:
        return Response(status_code=204)
    return json_response(result)


def _admit(spec: ServiceSpec, route: RouteSpec, api_request: ApiRequest) -> None:
    """Validate the token into the request's context.  Runs in a worker thread:
    validation reads the database."""
    token = api_request.headers.get("x-auth-token")
    context = spec.validate_token(token) if token else None
    if context is None and not route.public:
        raise errors.Unauthorized("The request you have made requires authentication.")
    if context is not None:
        context.request_id = api_request.attributes["request_id"]
    api_request.context = context


def _admit_and_handle(spec: ServiceSpec, route: RouteSpec, api_request: ApiRequest) -> Any:
    _admit(spec, route, api_request)
    # A transaction that loses a conflict (Galera certification, serialization) before the
    # handler had any visible effect re-runs the whole handler: see common/db/replay.py.
    return run_replayable(route.handler, api_request)


def _make_endpoint(spec: ServiceSpec, route: RouteSpec) -> Callable[[Request], Awaitable[Response]]:
    is_async = inspect.iscoroutinefunction(route.handler)

    async def endpoint(request: Request) -> Response:
        request_id = "req-" + str(uuid.uuid4())
        token_var = request_id_var.set(request_id)
        api_request = None
        try:
            try:
                api_request = ApiRequest(request, None, spec.enforcer,
                                         attributes={"service_url": spec.service_url,
                                                     "request_id": request_id})
                if spec.prepare:
                    # On the loop, in this request's context: hooks only read headers, and
                    # what they put in context variables must reach the error renderer.
                    spec.prepare(api_request)
                api_request.attributes["prepared"] = True
                if not route.stream:
                    api_request.body = await _read_body(request, spec.max_body)
                if is_async:
                    await run_in_threadpool(_admit, spec, route, api_request)
                    result = await route.handler(api_request)
                else:
                    # One trip to the worker thread for token validation and the handler.
                    result = await run_in_threadpool(_admit_and_handle, spec, route, api_request)
                response = _to_response(result)
            except errors.ApiError as error:
                if error.status == 401:
                    error.headers.setdefault("WWW-Authenticate", spec.www_authenticate)
                if error.status >= 500:
                    LOG.error("%s %s failed: %s", request.method, request.url.path, error.message)
                response = spec.error_format(error)
            except Exception as exc:
                known = api_error_for(exc)
                if known is None:
                    LOG.exception("unexpected error serving %s %s", request.method, request.url.path)
                response = spec.error_format(known or errors.InternalError())
            if spec.finish and api_request is not None and api_request.attributes.get("prepared"):
                spec.finish(api_request, response)
            response.headers["x-openstack-request-id"] = request_id
            return response
        finally:
            request_id_var.reset(token_var)

    endpoint.__name__ = f"{spec.name}_{route.handler.__name__}"
    return endpoint


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise errors.RequestEntityTooLarge("Request is too large.")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise errors.RequestEntityTooLarge("Request is too large.")
        chunks.append(chunk)
    return b"".join(chunks)


def build_app(spec: ServiceSpec) -> Starlette:
    """A Starlette app serving ``spec``'s routes; unknown paths and methods get 404/405
    in the service's own error format."""
    grouped: dict[str, list[RouteSpec]] = {}
    for route in spec.router.routes:
        grouped.setdefault(route.path, []).append(route)
    routes = []
    for path, specs in grouped.items():
        by_method = {r.method: _make_endpoint(spec, r) for r in specs}
        if "GET" in by_method and "HEAD" not in by_method:
            by_method["HEAD"] = by_method["GET"]
        routes.append(Route(path, _dispatch(by_method), methods=list(by_method)))
    if spec.empty_id_not_found:
        routes.extend(_empty_id_routes(spec, grouped))

    async def http_error(request: Request, exc: HTTPException) -> Response:
        error = errors.ApiError(exc.detail if exc.status_code != 404 else "The resource could not be found.",
                                status=exc.status_code)
        if exc.status_code == 405:
            error.message = "The method is not allowed for the requested URL."
        response = spec.error_format(error)
        response.headers["x-openstack-request-id"] = "req-" + str(uuid.uuid4())
        return response

    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error})
    # The declared routes stay reachable from the mounted app, so tests can walk every
    # service's API (the body fuzzer fuzzes each route it finds there).
    app.state.router = spec.router
    return app


def _empty_id_routes(spec: ServiceSpec, grouped: dict[str, list[RouteSpec]]) -> list[Route]:
    """For every ``<prefix>/{param}`` route, a ``<prefix>/`` route answering 404 (in the
    service's format, after token validation) to the same methods: the id is empty, as
    Nova, Glance and Cinder see it.  Skipped where ``<prefix>/`` is itself a route, and
    for one-segment prefixes, so version roots such as ``/v3/`` keep their documents."""
    methods: dict[str, set[str]] = {}
    for path, specs in grouped.items():
        prefix, _, last = path.rpartition("/")
        if not (last.startswith("{") and last.endswith("}")) or prefix.count("/") < 2:
            continue
        if prefix + "/" not in grouped:
            methods.setdefault(prefix + "/", set()).update(r.method for r in specs)

    def empty_id(req: ApiRequest):
        raise errors.NotFound("The resource could not be found.")

    routes = []
    for path, verbs in methods.items():
        by_method = {verb: _make_endpoint(spec, RouteSpec(verb, path, empty_id)) for verb in verbs}
        if "GET" in by_method and "HEAD" not in by_method:
            by_method["HEAD"] = by_method["GET"]
        routes.append(Route(path, _dispatch(by_method), methods=list(by_method)))
    return routes


def _dispatch(by_method: dict[str, Callable[[Request], Awaitable[Response]]]):
    async def dispatch(request: Request) -> Response:
        return await by_method[request.method](request)
    return dispatch
