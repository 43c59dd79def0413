"""The ASGI app factory every service API is built with.

A service declares its routes (:mod:`pocketstack.common.api.routes`); :func:`build_app`
turns them into a Starlette app whose single endpoint wrapper does, for every request and
in this order: request id, microversion negotiation, the service's ``prepare`` hook
(header-only work), the choice of the declaration serving that microversion (404 when
none does), body reading (bounded; skipped for streaming routes), token validation into a
:class:`RequestContext` and body validation against the declared schema, the handler (sync
handlers run in the same worker-thread trip as the validation, so database calls never
block the event loop; re-run whole if its transaction lost a conflict before it had any
effect), the check that a declared policy was enforced, rendering of the result with the
declared status, rendering of any error in the service's own format, and the count and
time of the answer under its declared route (:mod:`pocketstack.common.metrics`), all
within a memo of the request (:mod:`pocketstack.common.request_memo`).  Fault
injection (pocketstack/faults) comes right after the service's ``prepare`` hook: an
injected error is rendered like any other, with the same headers.  Doing this in
one wrapper instead of a middleware stack keeps the hot path short and the data flow
obvious.
"""

from __future__ import annotations

import functools
import inspect
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from pocketstack.common import errors
from pocketstack.common.access_rules import permits
from pocketstack.common.api.db_errors import api_error_for
from pocketstack.common.api.errors import ErrorFormat
from pocketstack.common.api.microversions import Version, VersionRange
from pocketstack.common.api.openapi import describe
from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import Router, RouteSpec, specificity
from pocketstack.common.api.routes import route as declare
from pocketstack.common.context import RequestContext
from pocketstack.common.db.replay import run_replayable
from pocketstack.common.log import request_id_var
from pocketstack.common.metrics import DISCARD, Metrics
from pocketstack.common.policy import Enforcer
from pocketstack.common.request_memo import close_memo, open_memo
from pocketstack.common.validation import validate

LOG = logging.getLogger(__name__)
MAX_JSON_BODY = 1024 * 1024


class TokenValidator(Protocol):
    """Turns an ``X-Auth-Token`` into a context, raising ``Unauthorized`` if it is not valid."""

    def __call__(self, token: str) -> RequestContext: ...


class TokenlessValidator(Protocol):
    """A request without a token that may carry its own proof (Keystone's X.509
    tokenless authorization): its context, or None when it carries none."""

    def __call__(self, api_request: ApiRequest) -> RequestContext | None: ...


class RequestFaults(Protocol):
    """Fault injection (pocketstack/faults): may delay the request, or raise the error
    to answer instead, or drop the connection."""

    async def intercept(self, service: str, method: str, path: str) -> None: ...


BodyValidator = Callable[[Any, dict[str, Any]], Any]


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
    # The service's microversions: negotiated from the request headers before anything
    # else (a 406 when out of range) and available as ``req.version``.
    versions: VersionRange | None = None
    # Called on every request, on the event loop, before the token is validated (after
    # microversion negotiation): header-only work; may set attributes.
    prepare: Callable[[ApiRequest], None] | None = None
    # Called on every response, e.g. to add microversion headers.
    finish: Callable[[ApiRequest, Response], None] | None = None
    # How a declared body schema is checked (the 400 wording differs per service).
    validate_body: BodyValidator = validate
    max_body: int = MAX_JSON_BODY
    # Nova, Glance and Cinder answer 404 for an empty id (``DELETE /v2/images/``) where
    # the router would redirect to the collection: see :func:`_empty_id_routes`.
    empty_id_not_found: bool = False
    # Where requests are counted and timed (the cloud's; see common/metrics.py).
    metrics: Metrics = DISCARD
    # The cloud's fault rules (pocketstack/faults), applied to every request; None: never.
    faults: RequestFaults | None = None
    # The service's type in the catalog: what application credentials' access rules name.
    service_type: str = ""
    # Who a request without a token is, when it can tell (Identity: X.509 tokenless).
    validate_tokenless: TokenlessValidator | None = None


def _to_response(route: RouteSpec, result: Any) -> Response:
    if isinstance(result, Response):
        return result
    if result is None:
        return Response(status_code=route.status or 204)
    return json_response(result, status=route.status or 200)


def _authenticate(spec: ServiceSpec, public: bool, api_request: ApiRequest) -> None:
    """Validate the token into the request's context (401 without one unless ``public``).
    Runs in a worker thread: validation reads the database."""
    token = api_request.headers.get("x-auth-token")
    context: RequestContext | None
    if token:
        context = spec.validate_token(token)
    else:
        context = spec.validate_tokenless(api_request) if spec.validate_tokenless else None
    if context is None and not public:
        raise errors.Unauthorized("The request you have made requires authentication.")
    if context is not None and context.access_rules is not None and not permits(
            context.access_rules, spec.service_type, api_request.method, _route_path(api_request.raw)):
        # keystonemiddleware's answer to a request the token's access rules do not allow.
        raise errors.Unauthorized("The request you have made requires authentication.")
    if context is not None:
        context.request_id = api_request.attributes["request_id"]
    api_request.context = context


def _admit(spec: ServiceSpec, route: RouteSpec, api_request: ApiRequest) -> None:
    """Authenticate, then validate the body against the route's schema (or, for a route
    that authorizes first, once its policy is enforced)."""
    _authenticate(spec, route.public, api_request)
    _check_query(route, api_request)
    schema = route.schema_for(api_request.version)
    if schema is not None:
        validate = functools.partial(_validate_body, spec, route, schema, api_request)
        if route.authorize_first:
            api_request.validate_later = validate
        else:
            validate()


def _check_query(route: RouteSpec, api_request: ApiRequest) -> None:
    """A query parameter the route does not know is a 400 where it declares its names
    (jsonschema's wording for ``additionalProperties: False``, as Nova's query schemas)."""
    allowed = route.query_for(api_request.version)
    if allowed is None:
        return
    unknown = [name for name in dict.fromkeys(api_request.query.keys()) if name not in allowed]
    if unknown:
        names = ", ".join(repr(name) for name in unknown)
        raise errors.BadRequest(f"Additional properties are not allowed ({names} "
                                f"{'was' if len(unknown) == 1 else 'were'} unexpected)")


def _validate_body(spec: ServiceSpec, route: RouteSpec, schema: dict[str, Any], api_request: ApiRequest) -> None:
    body = api_request.json(required=route.body_required)
    if body is not None or api_request.body.strip():  # a JSON null is validated too
        api_request.data = spec.validate_body(body, schema)


def _handle(route: RouteSpec, api_request: ApiRequest) -> Any:
    result = route.handler(api_request)
    _check_policy_enforced(route, api_request)
    return result


def _check_policy_enforced(route: RouteSpec, api_request: ApiRequest) -> None:
    """A route that declares a policy and answered without enforcing any is a bug (the
    hole an audit finds); fail it rather than serve it unchecked."""
    if route.policy and not api_request.authorized:
        raise RuntimeError(f"{route.method} {route.path} ({route.name}) did not enforce its policy {route.policy}")


def _admit_and_handle(spec: ServiceSpec, route: RouteSpec, api_request: ApiRequest) -> Any:
    _admit(spec, route, api_request)
    # A transaction that loses a conflict (Galera certification, serialization) before the
    # handler had any visible effect re-runs the whole handler: see common/db/replay.py.
    return run_replayable(_handle, route, api_request, metrics=spec.metrics)


def _route_for(candidates: list[RouteSpec], version: Version | None) -> RouteSpec | None:
    """The declaration serving ``version``, if any."""
    return next((candidate for candidate in candidates if candidate.serves(version)), None)


def _make_endpoint(spec: ServiceSpec, candidates: list[RouteSpec]) -> Callable[[Request], Awaitable[Response]]:
    # Counted under the declared path (bounded), whichever microversion's declaration serves.
    observe = spec.metrics.http_route(spec.name, candidates[0].path)

    async def endpoint(request: Request) -> Response:
        arrived = time.perf_counter()
        request_id = "req-" + str(uuid.uuid4())
        token_var = request_id_var.set(request_id)
        api_request = None
        memo_token = open_memo()  # what the request works out once (common/request_memo.py)
        try:
            try:
                api_request = ApiRequest(request, None, spec.enforcer,
                                         attributes={"service_url": spec.service_url,
                                                     "request_id": request_id})
                if spec.versions is not None:
                    api_request.attributes["version"] = spec.versions.negotiate(request.headers)
                if spec.prepare:
                    # On the loop, in this request's context: hooks only read headers, and
                    # what they put in context variables must reach the error renderer.
                    spec.prepare(api_request)
                api_request.attributes["prepared"] = True
                if spec.faults is not None:
                    await spec.faults.intercept(spec.name, request.method, _route_path(request))
                route = api_request.route = _route_for(candidates, api_request.version)
                if route is None:
                    # Not at this microversion: 404 as Nova and Placement answer -- after the
                    # token is checked, as their auth middleware runs before routing.
                    await run_in_threadpool(_authenticate, spec, candidates[0].public, api_request)
                    raise errors.NotFound("The resource could not be found.")
                if not route.stream:
                    api_request.body = await _read_body(request, spec.max_body)
                if inspect.iscoroutinefunction(route.handler):
                    await run_in_threadpool(_admit, spec, route, api_request)
                    result = await route.handler(api_request)
                    _check_policy_enforced(route, api_request)
                else:
                    # One trip to the worker thread for token validation and the handler.
                    result = await run_in_threadpool(_admit_and_handle, spec, route, api_request)
                response = _to_response(route, result)
            except errors.ApiError as error:
                if error.status == 401:
                    error.headers.setdefault("WWW-Authenticate", spec.www_authenticate)
                if error.status >= 500:
                    LOG.error("%s %s failed: %s", request.method, request.url.path, error.message)
                response = spec.error_format(error)
            except ClientDisconnect:
                # The client left before its request was read (a probe that timed out):
                # nobody reads the answer, and nothing went wrong here.
                LOG.info("%s %s: the client disconnected", request.method, request.url.path)
                response = spec.error_format(errors.BadRequest("The client disconnected."))
            except Exception as exc:
                known = api_error_for(exc)
                if known is None:
                    LOG.exception("unexpected error serving %s %s", request.method, request.url.path)
                response = spec.error_format(known or errors.InternalError())
            if spec.finish and api_request is not None and api_request.attributes.get("prepared"):
                spec.finish(api_request, response)
            response.headers["x-openstack-request-id"] = request_id
            observe(request.method, response.status_code, time.perf_counter() - arrived)
            return response
        finally:
            close_memo(memo_token)
            request_id_var.reset(token_var)

    endpoint.__name__ = f"{spec.name}_{candidates[0].name}"
    return endpoint


def _route_path(request: Request) -> str:
    """The request's path below the service's mount point (``/v2.1/servers``)."""
    path, root = request.url.path, request.scope.get("root_path", "")
    return path[len(root):] if root and path.startswith(root) else path


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
    in the service's own format.  Paths are tried most specific first (a literal segment
    before a parameter); one path and method may have several declarations for disjoint
    microversion ranges."""
    grouped: dict[str, dict[str, list[RouteSpec]]] = {}
    for route in [*spec.router.routes, *Router().include(OpenApiDocument(spec)).routes]:
        grouped.setdefault(route.path, {}).setdefault(route.method, []).append(route)
    routes = [_mounted(spec, path, by_method)
              for path, by_method in sorted(grouped.items(), key=lambda item: specificity(item[0]))]
    if spec.empty_id_not_found:
        routes.extend(_empty_id_routes(spec, grouped))

    async def http_error(request: Request, exc: HTTPException) -> Response:
        error = errors.ApiError(exc.detail if exc.status_code != 404 else "The resource could not be found.",
                                status=exc.status_code)
        if exc.status_code == 405:
            error.message = "The method is not allowed for the requested URL."
        response = spec.error_format(error)
        response.headers["x-openstack-request-id"] = "req-" + str(uuid.uuid4())
        spec.metrics.http_unrouted(spec.name, request.method, response.status_code)
        return response

    handlers: dict[Any, Callable[..., Any]] = {HTTPException: http_error}
    app = Starlette(routes=routes, exception_handlers=handlers)
    # The declared routes stay reachable from the mounted app, so tests can walk every
    # service's API (the body fuzzer fuzzes each route it finds there).
    app.state.router = spec.router
    return app


class OpenApiDocument:
    """``GET /openapi.json``: the service's routes described (common/api/openapi.py)."""

    def __init__(self, spec: ServiceSpec):
        self.spec = spec

    @declare.get("/openapi.json", public=True)
    def openapi(self, req: ApiRequest) -> dict[str, Any]:
        """The OpenAPI 3.1 description of this service (``?microversion=X.Y``)."""
        version = req.version
        asked = req.query.get("microversion")
        if asked is not None and self.spec.versions is not None:
            version = self.spec.versions.negotiate({"openstack-api-version": f"{self.spec.versions.service_type} "
                                                                             f"{asked}"})
        elif self.spec.versions is not None and "openstack-api-version" not in req.headers:
            version = self.spec.versions.maximum
        return describe(self.spec.name, self.spec.router.routes, self.spec.service_url, self.spec.versions, version)


def _mounted(spec: ServiceSpec, path: str, by_method: dict[str, list[RouteSpec]]) -> Route:
    endpoints = {method: _make_endpoint(spec, candidates) for method, candidates in by_method.items()}
    if "GET" in endpoints and "HEAD" not in endpoints:
        endpoints["HEAD"] = endpoints["GET"]

    async def dispatch(request: Request) -> Response:
        return await endpoints[request.method](request)
    return Route(path, dispatch, methods=list(endpoints))


def _empty_id_routes(spec: ServiceSpec, grouped: dict[str, dict[str, list[RouteSpec]]]) -> list[Route]:
    """For every ``<prefix>/{param}`` route, a ``<prefix>/`` route answering 404 (in the
    service's format, after token validation) to the same methods: the id is empty, as
    Nova, Glance and Cinder see it.  Skipped where ``<prefix>/`` is itself a route, and
    for one-segment prefixes, so version roots such as ``/v3/`` keep their documents."""
    methods: dict[str, set[str]] = {}
    for path, by_method in grouped.items():
        prefix, _, last = path.rpartition("/")
        if not (last.startswith("{") and last.endswith("}")) or prefix.count("/") < 2:
            continue
        if prefix + "/" not in grouped:
            methods.setdefault(prefix + "/", set()).update(by_method)

    def empty_id(req: ApiRequest) -> None:
        raise errors.NotFound("The resource could not be found.")

    return [_mounted(spec, path, {verb: [RouteSpec(verb, path, empty_id)] for verb in verbs})
            for path, verbs in methods.items()]
