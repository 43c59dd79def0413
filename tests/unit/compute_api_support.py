"""What the compute handler tests share: a compute database on SQLite, callers with
roles, and an :class:`ApiRequest` for one declared route at one microversion -- the
handlers are called directly, without a cloud or an HTTP server."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from pocketstack.common.api.microversions import Version
from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import Router, RouteSpec
from pocketstack.common.context import RequestContext
from pocketstack.common.db.base import Base
from pocketstack.common.db.engine import Database
from pocketstack.common.policy import Enforcer
from pocketstack.common.validation import validate
from pocketstack.compute import models  # noqa: F401  (the tables)
from pocketstack.compute.policies import RULES

SERVICE_URL = "http://127.0.0.1:8780/compute"


def database(path) -> Database:
    """A fresh compute schema in a SQLite file."""
    db = Database(f"sqlite:///{path}/compute.db")
    Base.metadata.create_all(db.engine, tables=[t for t in Base.metadata.sorted_tables
                                                if t.name.startswith("compute_")])
    return db


def enforcer() -> Enforcer:
    enforcer = Enforcer()
    enforcer.register(RULES)
    return enforcer


def caller(*roles: str, project: str = "p1", user: str = "u1") -> RequestContext:
    return RequestContext(user_id=user, user_name=user, project_id=project, project_name=project, roles=list(roles))


ADMIN = ("admin", "member", "reader")
MEMBER = ("member", "reader")
READER = ("reader",)


def spec(api: object, method: str, path: str) -> RouteSpec:
    """The declaration of ``api`` serving ``method path``."""
    found = [r for r in Router().include(api).routes if r.method == method and r.path == path]
    assert found, f"{type(api).__name__} declares no {method} {path}"
    return found[0]


def call(api: object, method: str, path: str, context: RequestContext | None, *, version: str = "2.1",
         params: dict[str, str] | None = None, query: str = "", body: Any = None,
         rules: Enforcer | None = None) -> Any:
    """Serve one request the way the wrapper does (declared schema, then the handler,
    then the check that a declared policy was enforced), returning the handler's result."""
    route = spec(api, method, path)
    scope = {"type": "http", "method": method, "path": path, "query_string": query.encode(),
             "path_params": params or {}, "headers": []}
    raw = b"" if body is None else json.dumps(body).encode()
    req = ApiRequest(Request(scope), context, rules or enforcer(), body=raw,
                     attributes={"service_url": SERVICE_URL, "request_id": "req-test",
                                 "version": Version.parse(version)})
    req.route = route
    assert route.serves(req.version), f"{method} {path} does not exist at {version}"
    schema = route.schema_for(req.version)
    if schema is not None:
        def check() -> None:
            req.data = validate(req.json(), schema)
        if route.authorize_first:  # validated by req.authorize(), once the rule passed
            req.validate_later = check
        else:
            check()
    result = route.handler(req)
    if route.policy:
        assert req.authorized, f"{method} {path} did not enforce {route.policy}"
    return result
