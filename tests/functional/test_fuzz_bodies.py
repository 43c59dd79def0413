"""Fuzz every create, update and action route of every service, and the query strings
of every listing: no input may make the cloud answer 5xx (501, a deliberate "not
implemented", aside), and every error must be in the service's own format.

Routes come from the routers the services declare (:mod:`fuzzing.routes`), so a new
route is fuzzed without a change here.  Path parameters are the ids of real resources
in the fuzzer's own project (:mod:`fuzzing.world`) or garbage ids.  Every body route
first gets a fixed baseline: raw bodies (empty, ``null``, 100 000 levels deep, lone
surrogates, invalid UTF-8...), and each valid body the world was built with (its
*seeds*) and each schema of the handler's module with one value at a time made wrong.
Then hypothesis generates more (:mod:`fuzzing.strategies`), as an admin and, one in
four, as a plain member.  Every listing first gets each query key its handler names holding
each of a few documents a filter might decode (lone surrogates, deep nesting), then
generated query strings.

Bounded for CI: derandomized (the same examples every run), ``POCKETSTACK_FUZZ_EXAMPLES``
generated examples per route (default 12 for bodies, a third of that for queries),
SQLite only (``POCKETSTACK_FUZZ_BACKENDS``, default ``sqlite``): about a minute.
``make fuzz`` is the long run: more examples and a fresh seed each run
(``POCKETSTACK_FUZZ_SEED``, repeated in every failure's message).

A 5xx someone else is fixing goes in :data:`KNOWN_5XX`: the fuzzer tolerates exactly
the requests its predicate describes, and ``test_known_5xx_still_fails`` (a strict
xfail) fails as soon as the fix lands, so the entry is removed with the fix.
"""

from __future__ import annotations

import logging
import os
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis import strategies as st

from pocketstack.cloud import SERVICES
from pocketstack.testing.service import ToolsService

from fuzzing.formats import check_error_format
from fuzzing.routes import (
    FuzzRoute,
    body_routes,
    handler_modules,
    listing_routes,
    param_name,
    path_pattern,
    served_routes,
    vocabulary,
)
from fuzzing.strategies import (
    BASELINE_RAW,
    RequestCase,
    baseline_mutants,
    baseline_queries,
    garbage,
    object_schemas,
    path_values,
    plausible_bodies,
    query_strings,
    raw_bodies,
    raw_body,
    real_path,
    schemas_for,
    to_bytes,
)
from fuzzing.world import build_world, retire

EXAMPLES = int(os.environ.get("POCKETSTACK_FUZZ_EXAMPLES", "12"))
SEED = os.environ.get("POCKETSTACK_FUZZ_SEED", "")
FUZZ_BACKENDS = os.environ.get("POCKETSTACK_FUZZ_BACKENDS", "sqlite").split(",")
MICROVERSIONS = "compute {v}, volume {v}, placement {v}, image {v}, network {v}, identity {v}"


# ---------------------------------------------------------------------------------------
# Known 5xx, left for the engineers fixing them: remove an entry together with its fix.
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class KnownIssue:
    """A 5xx someone else is fixing.  ``matches`` says which fuzzed requests on routes
    matching ``route`` (a regex on "METHOD /mount/path") it explains, so the fuzzer
    tolerates exactly those.  ``reproduction`` (method, path, body; ``{project}`` is the
    home project's id, another ``{key}`` the world's first id for that key) is what the
    strict xfail test sends; None for a race, which no single request reproduces."""

    name: str
    route: str
    matches: Callable[[RequestCase], bool]
    crash: str  # where it fails: the innermost pocketstack frame of the logged traceback
    reproduction: tuple[str, str, bytes] | None


# Empty while no 5xx is known; an entry names the issue, its route pattern, the requests
# it explains, where it crashes and a reproduction (None for a race).
KNOWN_5XX: list[KnownIssue] = []


def known_issue(route: FuzzRoute, case: RequestCase) -> KnownIssue | None:
    """The known 5xx that explains this request's 5xx, if any."""
    return next((k for k in KNOWN_5XX if re.fullmatch(k.route, route.label) and k.matches(case)), None)


# ---------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def fuzz_backend(backend):
    if backend not in FUZZ_BACKENDS:
        pytest.skip(f"the fuzzer runs on {','.join(FUZZ_BACKENDS)} (POCKETSTACK_FUZZ_BACKENDS)")


@pytest.fixture(scope="module")
def routes(api) -> dict[str, list[FuzzRoute]]:
    return served_routes(api.client.app, [*api.cloud.services, ToolsService])


@pytest.fixture(autouse=True)
def no_fault_rules(api):
    """A fuzzed body may be a valid fault rule: none outlives the test that made it."""
    yield
    api.cloud.faults.clear()


@pytest.fixture(scope="module")
def world(api, admin_token):
    world = build_world(api, admin_token)
    yield world
    retire(api, world)


class CrashLog(logging.Handler):
    """Keeps the last exception the app logged, to show where a 500 came from."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.last: logging.LogRecord | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.last = record

    def where(self) -> str:
        """The exception and the innermost pocketstack frame it went through."""
        if self.last is None:
            return "(no traceback logged)"
        error = self.last.exc_info[1]
        frames = [f for f in traceback.extract_tb(error.__traceback__) if "/pocketstack/" in f.filename]
        at = f"{frames[-1].filename.split('/src/')[-1]}:{frames[-1].lineno} in {frames[-1].name}" if frames else "?"
        return f"{type(error).__name__}: {error} (at {at})"


@pytest.fixture
def crashes():
    handler = CrashLog()
    logger = logging.getLogger("pocketstack")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


# ---------------------------------------------------------------------------------------
# Sending and checking
# ---------------------------------------------------------------------------------------

def send(api, world, case: RequestCase):
    headers = {"X-Auth-Token": world.member if case.as_member else world.admin, "Accept": "application/json",
               **case.headers}
    return api.client.request(case.method, case.url, content=case.body, headers=headers)


def check(api, world, crashes: CrashLog, route: FuzzRoute, case: RequestCase) -> None:
    """The request must not crash the app (a 5xx or an exception out of it), and an error
    must be in the service's format."""
    crashes.last = None
    try:
        response = send(api, world, case)
    except Exception as exc:
        raise AssertionError(f"{case!r} raised {exc!r}\n{crashes.where()}") from exc
    if response.status_code >= 500 and response.status_code != 501:  # 501: a deliberate "not implemented"
        if known_issue(route, case):
            return
        raise AssertionError(f"{response.status_code} for {case!r}: {response.text[:300]}\n{crashes.where()}")
    if response.status_code >= 400:
        try:
            check_error_format(route.service, response)
        except (AssertionError, ValueError, KeyError, TypeError) as exc:
            raise AssertionError(f"not in the {route.service} error format ({exc!r}): {case!r} answered "
                                 f"{response.status_code} {response.headers.get('content-type')} "
                                 f"{response.text[:300]!r}") from None


def header_words(words: tuple[str, ...]) -> list[str]:
    return [w for w in words if w.lower().startswith(("x-", "content-", "if-", "destination", "range"))]


def headers_for(words: tuple[str, ...]) -> st.SearchStrategy:
    """Microversions (latest, none, out of range), a content type (JSON, one the module
    names, or garbage) and garbage in any header the module reads."""
    version = st.sampled_from(["latest", "latest", "latest", None, "1.99999", "x"])
    media = [w for w in words if re.fullmatch(r"(application|text)/[\w.+-]+", w)]
    content_type = st.sampled_from(["application/json", "application/json", *media, "text/plain", "",
                                    "application/json; charset=" + "x" * 5000])
    # Printable ASCII only: Swift echoes metadata back in response headers, which the
    # test client (not the server) cannot decode beyond ASCII.
    value = st.one_of(st.sampled_from(["", "-1", "0", str(2**63), "1e999", "x" * 5000, "a/b/c", "../x"]),
                      st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40))
    names = header_words(words)
    extra = st.dictionaries(st.sampled_from(names), value, max_size=3) if names else st.just({})

    def assemble(v, ct, more):
        headers = dict(more)
        headers["Content-Type"] = ct
        if v is not None:
            headers["OpenStack-API-Version"] = MICROVERSIONS.format(v=v)
        return headers
    return st.builds(assemble, version, content_type, extra)


def route_schemas(route: FuzzRoute) -> list[dict]:
    """The JSON Schemas of the route handler's modules that fit the route."""
    found = [schema for module in handler_modules(route) for schema in object_schemas(vars(module))]
    return schemas_for(route, found)


def route_seeds(route: FuzzRoute, world) -> list:
    """The world's valid bodies for ``route``; for an update of a member
    (``PUT /networks/{id}``), those that created one (``POST /networks``)."""
    pattern = path_pattern(route)
    own = [body for method, path, body in world.seeds if method == route.method and pattern.match(path)]
    if own or not route.segments or param_name(route.segments[-1]) is None:
        return own
    collection = FuzzRoute(route.service, route.mount, "POST", "/" + "/".join(route.segments[:-1]), route.handler)
    pattern = path_pattern(collection)
    return [body for method, path, body in world.seeds if method == "POST" and pattern.match(path)]


def body_cases(route: FuzzRoute, world) -> st.SearchStrategy:
    words = vocabulary(route)
    bodies = st.one_of(plausible_bodies(route, route_seeds(route, world), route_schemas(route), words).map(to_bytes),
                       garbage.map(to_bytes), raw_bodies(route))
    return st.builds(RequestCase, method=st.just(route.method), url=path_values(route, world.known), body=bodies,
                     headers=headers_for(words), as_member=st.sampled_from([False, False, False, True]))


def baseline_body_cases(route: FuzzRoute, world) -> list[RequestCase]:
    """What every body route gets on every run, on real resources: the raw bodies, and
    one wrong value in each field of its schemas."""
    url = real_path(route, world.known)
    bodies = [raw_body(route, name) for name in BASELINE_RAW]
    bodies += [to_bytes(body) for body in baseline_mutants(route_seeds(route, world), route_schemas(route))]
    return [RequestCase(route.method, url, body, {"Content-Type": "application/json",
                                                  "OpenStack-API-Version": MICROVERSIONS.format(v="latest")})
            for body in bodies]


def baseline_query_cases(route: FuzzRoute, world) -> list[RequestCase]:
    """What every listing gets on every run, on a real path: each of its query keys
    holding a document a filter might decode (see :func:`baseline_queries`)."""
    url = real_path(route, world.known)
    return [RequestCase("GET", f"{url}?{query}") for query in baseline_queries(vocabulary(route))]


def query_cases(route: FuzzRoute, world) -> st.SearchStrategy:
    words = vocabulary(route)
    url = st.builds(lambda path, query: f"{path}?{query}", path_values(route, world.known), query_strings(words))
    return st.builds(RequestCase, method=st.just("GET"), url=url, headers=headers_for(words),
                     as_member=st.sampled_from([False, False, False, True]))


def generated_failure(cases: st.SearchStrategy, examples: int, probe: Callable[[RequestCase], None]) -> str | None:
    """Run ``probe`` on ``examples`` generated cases; the shrunk failure as text, or None."""
    @settings(max_examples=examples, derandomize=not SEED, database=None, deadline=None, print_blob=False,
              suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet,
              phases=(Phase.generate, Phase.shrink))
    @given(case=cases)
    def run(case):
        probe(case)

    if SEED:
        run = seed(int(SEED))(run)
    try:
        run()
    except Exception as exc:  # noqa: BLE001 - every failure is reported, all routes run
        return "".join(traceback.format_exception_only(exc)).strip()
    return None


def route_failures(route: FuzzRoute, baseline: list[RequestCase], cases: st.SearchStrategy, examples: int,
                   probe: Callable[[RequestCase], None]) -> list[str]:
    """Every baseline case that fails, then the first generated one (shrunk)."""
    failures = []
    for case in baseline:
        try:
            probe(case)
        except AssertionError as exc:
            failures.append(str(exc))
    generated = generated_failure(cases, examples, probe)
    return failures + ([generated] if generated else [])


def fuzz_routes(api, world, crashes, selected: list[FuzzRoute], cases, baseline, examples: int) -> None:
    failures = []
    for route in selected:
        found = route_failures(route, baseline(route, world), cases(route, world), examples,
                               lambda case, route=route: check(api, world, crashes, route, case))
        failures.extend(f"--- {route.label}\n{failure}" for failure in found)
    seed_note = f" (POCKETSTACK_FUZZ_SEED={SEED})" if SEED else ""
    assert not failures, f"{len(failures)} failures in {len(selected)} routes{seed_note}:\n" + "\n".join(failures)


# ---------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------

# The services, and pocketstack's own API (reset, snapshots and fault rules, at /_pocketstack).
SERVICE_NAMES = sorted([*SERVICES, ToolsService.name])


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_every_service_has_routes_to_fuzz(routes, service):
    assert body_routes(routes[service]), f"no POST/PUT/PATCH route found for {service}"
    assert listing_routes(routes[service]), f"no listing route found for {service}"


def test_root_aliases_are_fuzzed(routes, api):
    """A route a service also answers at the server's root (Shibboleth's ECP consumer)
    is fuzzed there too, not only under the service's prefix."""
    aliases = {(s.name, alias) for s in api.cloud.services for alias in s.root_aliases}
    assert aliases
    for name, alias in aliases:
        assert any(r.mount == "" and r.path == alias for r in body_routes(routes[name])), alias


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_fuzz_bodies(api, world, routes, crashes, service):
    fuzz_routes(api, world, crashes, body_routes(routes[service]), body_cases, baseline_body_cases, EXAMPLES)


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_fuzz_list_queries(api, world, routes, crashes, service):
    fuzz_routes(api, world, crashes, listing_routes(routes[service]), query_cases, baseline_query_cases,
                max(EXAMPLES // 3, 1))


@pytest.mark.parametrize("issue", KNOWN_5XX, ids=[k.name for k in KNOWN_5XX])
@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="a known 5xx (KNOWN_5XX): when this passes, remove the entry with the fix")
def test_known_5xx_still_fails(api, world, issue):
    if issue.reproduction is None:
        pytest.skip(f"{issue.name} is a race: no single request reproduces it")
    method, path, body = issue.reproduction
    fields = {key: values[0] for key, values in world.known.items() if values}
    headers = {"X-Auth-Token": world.admin, "Content-Type": "application/json", "Accept": "application/json",
               "OpenStack-API-Version": MICROVERSIONS.format(v="latest")}
    response = api.client.request(method, path.format(project=world.project, **fields), content=body,
                                  headers=headers)
    assert response.status_code < 500, response.text
