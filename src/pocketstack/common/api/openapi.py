"""OpenAPI 3.1 descriptions generated from the declared routes.

Real OpenStack publishes none; here each service's routes already say their method,
path, microversion range, body schema, success status, policy and whether a token is
needed, so the description is derived, never written by hand, and cannot drift from what
is served.  Each service answers ``GET <service>/openapi.json`` (public), for its newest
microversion or the one asked for with ``?microversion=X.Y``; schemathesis and any
client generator can read it.
"""

from __future__ import annotations

import re
from typing import Any

from pocketstack.common.api.microversions import Version, VersionRange
from pocketstack.common.api.routes import RouteSpec

OPENAPI_VERSION = "3.1.0"
_PARAMETER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::[a-z]+)?\}")


def openapi_path(path: str) -> str:
    """A Starlette path template as OpenAPI writes it (``{name:path}`` -> ``{name}``)."""
    return _PARAMETER.sub(lambda m: "{" + m.group(1) + "}", path)


def operation_id(route: RouteSpec) -> str:
    """Unique within a document (as OpenAPI requires) even when one handler class serves
    several collections: made of the method and the path, not the handler's name."""
    path = route.path.replace("{", "by_") + ("slash" if route.path.endswith("/") else "")
    return route.method.lower() + "_" + (re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_") or "root")


def _summary(route: RouteSpec) -> str:
    doc = (getattr(route.handler, "__doc__", None) or "").strip()
    return doc.splitlines()[0] if doc else route.name


def _operation(route: RouteSpec, version: Version | None, versions: VersionRange | None) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PARAMETER.findall(route.path)]
    if versions is not None:
        parameters.append({"name": "OpenStack-API-Version", "in": "header", "required": False,
                           "schema": {"type": "string"},
                           "description": f"`{versions.service_type} X.Y`, "
                                          f"{versions.minimum} to {versions.maximum}"})
    status = str(route.status or 200)
    operation: dict[str, Any] = {
        "operationId": operation_id(route),
        "summary": _summary(route),
        "parameters": parameters,
        "responses": {status: {"description": "Success."},
                      "default": {"description": "An error, in the service's own error format."}},
    }
    if route.policy:
        operation["x-openstack-policy"] = route.policy
    if route.since or route.until:
        operation["x-openstack-microversions"] = {"min": str(route.since) if route.since else None,
                                                  "max": str(route.until) if route.until else None}
    if not route.public:
        operation["security"] = [{"token": []}]
    schema = route.schema_for(version)
    if schema is not None:
        operation["requestBody"] = {"required": route.body_required,
                                    "content": {"application/json": {"schema": schema}}}
    return operation


def describe(name: str, routes: list[RouteSpec], service_url: str, versions: VersionRange | None = None,
             version: Version | None = None) -> dict[str, Any]:
    """The OpenAPI document of one service at ``version`` (default: its newest)."""
    if versions is not None and version is None:
        version = versions.maximum
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        if route.serves(version):
            paths.setdefault(openapi_path(route.path), {})[route.method.lower()] = _operation(route, version, versions)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": f"pocketstack {name}", "version": str(version) if version else "1"},
        "servers": [{"url": service_url}],
        "paths": dict(sorted(paths.items())),
        "components": {"securitySchemes": {"token": {"type": "apiKey", "in": "header", "name": "X-Auth-Token"}}},
    }
