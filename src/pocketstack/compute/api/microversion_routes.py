"""What whole microversions change in the router: 2.102 closes every query, 2.103 removes
``/os-volumes_boot``.

2.102: every Compute API reading a query rejects the parameters it does not know.

Nova gave each ``GET`` a query schema closed from 2.102 (``additionalProperties: False``);
those already closed (from 2.53, 2.59, 2.75, ...) keep their names.  Here that is one
rule applied to the router's routes: a ``GET`` that declares no names for 2.102 takes
the names it declared last, or none."""

from __future__ import annotations

from dataclasses import replace

from pocketstack.common.api.microversions import Version
from pocketstack.common.api.routes import Router, RouteSpec

CLOSED_FROM = Version(2, 102)


def _closed(spec: RouteSpec) -> RouteSpec:
    if spec.method != "GET" or spec.public or (spec.until is not None and spec.until < CLOSED_FROM):
        return spec
    if any(start is not None and start >= CLOSED_FROM for start, _names in spec.query):
        return spec
    names = spec.query_for(CLOSED_FROM)
    return replace(spec, query=(*spec.query, (CLOSED_FROM, names if names is not None else frozenset())))


def close_queries(router: Router) -> Router:
    router.routes = [_closed(spec) for spec in router.routes]
    return router


# ``/os-volumes_boot``: an old alias of ``/servers`` (create, list, detail, show, update,
# delete), removed in 2.103 (404 from then on).
VOLUMES_BOOT_UNTIL = Version(2, 102)
_SERVERS = "/v2.1/servers"
_ALIASED = {("GET", _SERVERS), ("POST", _SERVERS), ("GET", _SERVERS + "/detail"),
            ("GET", _SERVERS + "/{server_id}"), ("PUT", _SERVERS + "/{server_id}"),
            ("DELETE", _SERVERS + "/{server_id}")}


def volumes_boot_aliases(router: Router) -> Router:
    router.routes += [replace(spec, path="/v2.1/os-volumes_boot" + spec.path[len(_SERVERS):],
                              until=VOLUMES_BOOT_UNTIL)
                      for spec in router.routes if (spec.method, spec.path) in _ALIASED and spec.until is None]
    return router
