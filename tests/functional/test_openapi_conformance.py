"""The OpenAPI descriptions every service serves, checked against what it actually
mounts, and a bounded schemathesis run against each (no 5xx; status codes as declared).

The descriptions are generated from the route declarations (common/api/openapi.py), so
they describe what is served by construction; these tests keep it so (a route mounted
some other way would be missing) and let schemathesis probe every operation with inputs
derived from the declared schemas.  ``make fuzz`` raises the example count.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance
from starlette.routing import Route
from starlette.testclient import TestClient

from pocketstack.cloud import SERVICES
from pocketstack.common.api.openapi import openapi_path

EXAMPLES = int(os.environ.get("POCKETSTACK_OPENAPI_EXAMPLES", "3"))
# Bounded in CI: one backend is enough to find a 5xx (the body fuzzer's setting; ``make
# fuzz`` names others).
FUZZ_BACKENDS = os.environ.get("POCKETSTACK_FUZZ_BACKENDS", "sqlite").split(",")


def service_app(api, name: str):
    return next(s for s in api.cloud.services if s.name == name).app()


@pytest.fixture(scope="module")
def apps(api):
    return {name: service_app(api, name) for name in SERVICES}


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_description_lists_every_mounted_route(apps, name):
    app = apps[name]
    with TestClient(app) as client:
        document = client.get("/openapi.json").json()
    described = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    declared = app.state.router.routes
    mounted = {(method, openapi_path(route.path)) for route in app.routes
               if isinstance(route, Route) and route.path != "/openapi.json" for method in route.methods or ()}
    # Every declaration is mounted (GET also answers HEAD; the empty-id 404 routes are an
    # artefact of routing, not operations) ...
    assert {(r.method, openapi_path(r.path)) for r in declared} <= mounted
    # ... and described, unless it exists only below the newest microversion.
    current = {(r.method, openapi_path(r.path)) for r in declared if r.until is None}
    assert sorted(current - described) == []
    assert described <= {(r.method, openapi_path(r.path)) for r in declared}
    ids = [op["operationId"] for ops in document["paths"].values() for op in ops.values()]
    assert sorted({i for i in ids if ids.count(i) > 1}) == [], "operationId must be unique"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_schemathesis_finds_no_server_error(backend, api, apps, admin_token, name):
    if backend not in FUZZ_BACKENDS:
        pytest.skip(f"schemathesis runs on {','.join(FUZZ_BACKENDS)} (POCKETSTACK_FUZZ_BACKENDS)")
    schema = schemathesis.openapi.from_asgi("/openapi.json", apps[name])
    headers = {"X-Auth-Token": admin_token}
    failures, seen = [], []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def probe(case):
            # The service's own app, mounted at its root here (the description's server
            # URL carries the cloud's path prefix).
            response = case.call(base_url="http://127.0.0.1:8780", headers=headers)
            seen.append(response.status_code)
            case.validate_response(response, checks=[not_a_server_error, status_code_conformance])

        try:
            probe()
        except Exception as error:  # noqa: BLE001 - every operation's failure is reported together
            failures.append(f"{operation.method.upper()} {operation.path}: {str(error)[:600]}")
    assert not failures, "\n".join(failures[:20])
    assert any(status != 404 for status in seen), "no call reached a route (wrong base URL?)"
