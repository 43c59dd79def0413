"""Every route a cloud serves, read from the routers its services declared.

Each service's ASGI app keeps its :class:`~pocketstack.common.api.app.Router` in
``app.state.router``; walking the cloud's mounts finds them all, so a route added to any
service is fuzzed without touching the fuzzer.
"""

from __future__ import annotations

import ast
import functools
import inspect
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass

from pocketstack.cloud import TOOLS_PATH, LazyApp, Prefixed

BODY_METHODS = ("POST", "PUT", "PATCH")
_PARAM = re.compile(r"^\{(\w+)(?::\w+)?\}$")


@dataclass(frozen=True)
class FuzzRoute:
    """One declared route of one service, as the fuzzer addresses it."""

    service: str       # "compute"
    mount: str         # "/compute"
    method: str        # "POST"
    path: str          # "/v2.1/servers/{server_id}/action"
    handler: Callable

    @property
    def label(self) -> str:
        return f"{self.method} {self.mount}{self.path}"

    @property
    def segments(self) -> list[str]:
        return self.path.strip("/").split("/") if self.path.strip("/") else []


def param_name(segment: str) -> str | None:
    """``"{obj:path}"`` -> ``"obj"``; None for a literal segment."""
    match = _PARAM.match(segment)
    return match.group(1) if match else None


def served_routes(cloud_app, services) -> dict[str, list[FuzzRoute]]:
    """Service name -> its declared routes, from the apps mounted in ``cloud_app``
    (``pocketstack``: the cloud's own API, under ``/_pocketstack``), and the routes a
    service also answers at the server's root (its root aliases, mount ``""``)."""
    names = {service.path: service.name for service in services} | {TOOLS_PATH: "pocketstack"}
    found: dict[str, list[FuzzRoute]] = {}
    aliases = [r for r in cloud_app.routes if isinstance(getattr(r, "app", None), Prefixed)]
    for mount in cloud_app.routes:
        app = getattr(mount, "app", None)
        app = app.built() if isinstance(app, LazyApp) else app
        router = getattr(getattr(app, "state", None), "router", None)
        if router is None:
            continue
        name = names[mount.path]
        found[name] = [FuzzRoute(name, mount.path, r.method, r.path, r.handler) for r in router.routes]
        found[name] += [FuzzRoute(name, "", r.method, r.path, r.handler) for alias in aliases
                        if alias.app.prefix == mount.path for r in router.routes if r.path == alias.path]
    return found


def body_routes(routes: list[FuzzRoute]) -> list[FuzzRoute]:
    """The routes that take a request body: creates, updates and actions."""
    return [r for r in routes if r.method in BODY_METHODS]


def listing_routes(routes: list[FuzzRoute]) -> list[FuzzRoute]:
    """GET routes that list a collection: a literal last segment (``/v2.1/servers``,
    ``/v3/users``), or a parameter that other routes nest under (Swift's
    ``/v1/{account}`` lists containers)."""
    paths = {r.path for r in routes}

    def lists(route: FuzzRoute) -> bool:
        last = route.segments[-1] if route.segments else ""
        return param_name(last) is None or any(p.startswith(route.path + "/") for p in paths)

    return [r for r in routes if r.method == "GET" and lists(r)]


def resource_key(route: FuzzRoute) -> str:
    """The body's wrapper key a route most likely expects, from its last literal
    segment: ``/v2.1/os-keypairs`` -> ``keypair``, ``/v3/{p}/qos-specs/{id}`` ->
    ``qos_spec``."""
    literals = [s for s in route.segments if param_name(s) is None]
    word = literals[-1] if literals else route.service
    word = word.removeprefix("os-").replace("-", "_")
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("sses"):  # addresses
        return word[:-2]
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def handler_modules(route: FuzzRoute) -> list:
    """The module declaring the route's handler, and the modules of the same service it
    imports whole (``from pocketstack.identity.api import schemas``): where the
    handler's schemas and words are."""
    module = sys.modules[route.handler.__module__]
    package = ".".join(module.__name__.split(".")[:2])  # "pocketstack.identity"
    imported = [v for _, v in sorted(vars(module).items())
                if inspect.ismodule(v) and v.__name__.startswith(package + ".")]
    return [module, *imported]


@functools.cache
def module_strings(module_name: str) -> tuple[str, ...]:
    """Every string literal in a module's source: field names, action names, enum
    values and media types a handler (or the schema beside it) looks for."""
    source = inspect.getsource(sys.modules[module_name])
    literals = {node.value for node in ast.walk(ast.parse(source))
                if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    return tuple(sorted(s for s in literals if 0 < len(s) <= 64 and "\n" not in s and "{" not in s))


def vocabulary(route: FuzzRoute) -> tuple[str, ...]:
    """Words a plausible body for ``route`` is made of: the literals of its handler's
    modules, plus the route's own resource key."""
    words = {resource_key(route)}
    for module in handler_modules(route):
        words.update(module_strings(module.__name__))
    return tuple(sorted(words))


def path_pattern(route: FuzzRoute) -> re.Pattern:
    """A regex matching the concrete paths of ``route`` (mount included)."""
    parts = []
    for segment in route.segments:
        name = param_name(segment)
        parts.append(re.escape(segment) if name is None else (".+" if ":path" in segment else "[^/]+"))
    return re.compile(re.escape(route.mount) + "/" + "/".join(parts) + "$")
