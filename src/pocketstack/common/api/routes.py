"""Declared routes: each handler says what it serves, and one router collects them.

A handler is a plain method (or module-level function) carrying its declaration::

    class FlavorsApi:
        def __init__(self, flavors: Flavors):
            self.flavors = flavors

        @route.post("/v2.1/flavors", policy="os_compute_api:os-flavor-manage:create",
                    body={"2.1": schemas.CREATE, "2.55": schemas.CREATE_V255})
        def create(self, req: ApiRequest) -> dict:
            ...  # req.data is the body, valid for the negotiated microversion

    router = Router().include(FlavorsApi(flavors))

The request wrapper (:mod:`pocketstack.common.api.app`) reads the declaration: it
answers 404 outside the route's microversion range (as Nova does for a route that does
not exist yet or any more), validates the body against the schema of the highest
microversion not above the request's, renders the result with the declared status, and
fails loudly if a route that declares a policy returns without enforcing it.  The same
declarations generate the OpenAPI description (:mod:`pocketstack.common.api.openapi`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pocketstack.common.api.microversions import Version

Handler = Callable[..., Any]
Schema = dict[str, Any]
_ATTRIBUTE = "__pocketstack_routes__"


def _version(value: str | Version | None) -> Version | None:
    if value is None or isinstance(value, Version):
        return value
    return Version.parse(value)


@dataclass(frozen=True)
class RouteSpec:
    """One served route: method, path template and handler, with what it declares."""

    method: str
    path: str
    handler: Handler
    public: bool = False
    stream: bool = False
    policy: str | None = None
    # Request schemas by the microversion they start at, ascending (None: unversioned).
    body: tuple[tuple[Version | None, Schema], ...] = ()
    body_required: bool = True
    # Validate the body when the handler enforces the policy (a 403 before a 400, where
    # the real service checks its rule first), not before the handler runs.
    authorize_first: bool = False
    status: int | None = None
    since: Version | None = None
    until: Version | None = None
    # The query parameters allowed, by the microversion from which unknown ones are a 400
    # (Nova's query schemas with ``additionalProperties: False``), ascending; None: any.
    query: tuple[tuple[Version | None, frozenset[str] | None], ...] = ()

    @property
    def name(self) -> str:
        return getattr(self.handler, "__qualname__", getattr(self.handler, "__name__", "handler"))

    def serves(self, version: Version | None) -> bool:
        """Whether the route exists at ``version`` (always, for unversioned services)."""
        if version is None:
            return True
        return (self.since is None or version >= self.since) and (self.until is None or version <= self.until)

    def schema_for(self, version: Version | None) -> Schema | None:
        """The body schema in force at ``version``: the last one starting at or below it
        (the first one below its range, as the route itself then does not exist)."""
        if not self.body:
            return None
        chosen = self.body[0][1]
        for start, schema in self.body:
            if start is None or version is None or version >= start:
                chosen = schema
        return chosen

    def query_for(self, version: Version | None) -> frozenset[str] | None:
        """The query parameter names allowed at ``version`` (None: any name is)."""
        allowed = None
        for start, names in self.query:
            if start is None or (version is not None and version >= start):
                allowed = names
        return allowed


@dataclass(frozen=True)
class _Declaration:
    method: str
    path: str
    options: Mapping[str, Any]


def _bodies(body: Schema | Mapping[str, Schema] | None) -> tuple[tuple[Version | None, Schema], ...]:
    """``body=SCHEMA`` or ``body={"2.1": SCHEMA, "2.19": NEWER}``, as ascending pairs."""
    if body is None:
        return ()
    if all(isinstance(k, str) and k[:1].isdigit() for k in body) and body:
        pairs = [(Version.parse(k), v) for k, v in body.items()]
        return tuple(sorted(pairs, key=lambda kv: kv[0]))
    return ((None, dict(body)),)


def _queries(query: Iterable[str] | Mapping[str, Iterable[str] | None] | None,
             ) -> tuple[tuple[Version | None, frozenset[str] | None], ...]:
    """``query=NAMES`` (always strict) or ``query={"2.75": NAMES}`` (strict from 2.75)."""
    if query is None:
        return ()
    if isinstance(query, Mapping):
        pairs = [(Version.parse(k), None if v is None else frozenset(v)) for k, v in query.items()]
        return tuple(sorted(pairs, key=lambda kv: kv[0]))
    return ((None, frozenset(query)),)


def _options(*, public: bool = False, stream: bool = False, policy: str | None = None,
             body: Schema | Mapping[str, Schema] | None = None, body_required: bool = True,
             authorize_first: bool = False, status: int | None = None, since: str | None = None,
             until: str | None = None,
             query: Iterable[str] | Mapping[str, Iterable[str] | None] | None = None) -> dict[str, Any]:
    """A declaration's options as :class:`RouteSpec` fields."""
    if authorize_first and not (policy and body):
        raise ValueError("authorize_first validates the body when the declared policy is enforced: give both")
    return dict(public=public, stream=stream, policy=policy, body=_bodies(body), body_required=body_required,
                authorize_first=authorize_first, status=status, since=_version(since), until=_version(until),
                query=_queries(query))


class _Declare:
    """``@route.get(path, ...)`` and friends: attach a route declaration to a handler.
    A handler may carry several (e.g. ``/v3`` and ``/v3/``).  Options: ``public`` (no
    token needed), ``stream`` (the handler reads the body itself), ``policy`` (the rule
    :meth:`ApiRequest.authorize` enforces), ``body`` (a schema, or schemas by starting
    microversion), ``body_required``, ``authorize_first`` (validate the body once
    :meth:`ApiRequest.authorize` has enforced the policy: a 403 before a 400), ``status``
    (of a successful answer), ``since`` and ``until`` (the microversion range the route
    exists in), ``query`` (the query parameter names allowed, or those names by the
    microversion from which any other is a 400)."""

    def __call__(self, method: str, path: str, **options: Any) -> Callable[[Handler], Handler]:
        declaration = _Declaration(method.upper(), path, _options(**options))

        def declare(handler: Handler) -> Handler:
            target = handler.__func__ if inspect.ismethod(handler) else handler
            setattr(target, _ATTRIBUTE, [*getattr(target, _ATTRIBUTE, ()), declaration])
            return handler
        return declare

    def get(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self("PUT", path, **kw)

    def patch(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self("DELETE", path, **kw)

    def head(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self("HEAD", path, **kw)


route = _Declare()


def declared_handlers(provider: object) -> Iterable[tuple[Handler, list[_Declaration]]]:
    """The declared handlers of a module or object, in source order."""
    found = []
    for name in dir(provider):
        if name.startswith("__"):
            continue
        try:
            attribute = getattr(provider, name)
        except AttributeError:
            continue
        declarations = getattr(attribute, _ATTRIBUTE, None)
        if declarations and callable(attribute):
            function = getattr(attribute, "__func__", attribute)
            code = getattr(function, "__code__", None)
            found.append((code.co_firstlineno if code else 0, name, attribute, declarations))
    for _line, _name, handler, declarations in sorted(found, key=lambda f: (f[0], f[1])):
        yield handler, declarations


class Router:
    """A service's routes, collected from declared handlers with :meth:`include`."""

    def __init__(self) -> None:
        self.routes: list[RouteSpec] = []
        self._declared: set[tuple[str, str, Version | None, Version | None]] = set()

    def include(self, *providers: object, prefix: str = "") -> Router:
        """Add every declared handler of each provider (an object or a module), under
        ``prefix``: one generic handler class can serve several collections
        (``include(ResourceApi("networks"), prefix="/v2.0/networks")``).

        Such a class tailors its declarations to the collection an instance serves by
        defining ``adapt_route(spec) -> RouteSpec`` (its rule names, path parameter names,
        body schema): every route the provider contributes passes through it.

        A method and path declared twice for the same microversions is an error: the
        second handler would never run."""
        for provider in providers:
            adapt: Callable[[RouteSpec], RouteSpec] = getattr(provider, "adapt_route", lambda spec: spec)
            for handler, declarations in declared_handlers(provider):
                for declaration in declarations:
                    spec = adapt(RouteSpec(declaration.method, prefix + declaration.path, handler,
                                           **declaration.options))
                    key = (spec.method, spec.path, spec.since, spec.until)
                    if key in self._declared:
                        raise ValueError(f"route {spec.method} {spec.path} is declared twice "
                                         f"(again by {getattr(handler, '__qualname__', handler)})")
                    self._declared.add(key)
                    self.routes.append(spec)
        return self


def specificity(path: str) -> tuple[int, ...]:
    """Sort key so that a literal segment is tried before a parameter at the same place,
    and a ``{…:path}`` parameter (which spans segments) last: ``/servers/detail`` before
    ``/servers/{server_id}``, whatever order the handlers were declared in."""
    ranks = []
    for segment in path.strip("/").split("/"):
        if segment.startswith("{") and segment.endswith("}"):
            ranks.append(2 if ":path" in segment else 1)
        else:
            ranks.append(0)
    return tuple(ranks)
