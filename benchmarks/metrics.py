"""What counting and timing every request costs: µs per request with and without metrics.

    python benchmarks/metrics.py [--requests 20000]

One service app (``common/api/app.py:build_app``) with one public route answering a small
JSON body is called straight through ASGI (no socket, no HTTP client: the wrapper's own
cost is what is measured), once with the cloud's metrics and once with the observer
replaced by a no-op.  The difference is the per-request price of ``/metrics``; the cost
of one bare ``observe()`` call is printed too.  Rounds of both are interleaved and
compared by their medians, to damp the noise of a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from pocketstack.common.api.app import ServiceSpec, build_app
from pocketstack.common.api.errors import fault_format
from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import Router, route
from pocketstack.common.metrics import Metrics
from pocketstack.common.policy import Enforcer

ROUNDS = 20


class Ping:
    @route.get("/v1/ping/{item}", public=True)
    async def ping(self, req: ApiRequest) -> dict[str, Any]:
        return {"pong": req.path_params["item"]}


def make_app(metrics: Metrics) -> Any:
    def no_token(token: str) -> Any:
        raise AssertionError("public route: no token is validated")

    return build_app(ServiceSpec(name="bench", router=Router().include(Ping()), error_format=fault_format,
                                 enforcer=Enforcer(), validate_token=no_token, service_url="http://bench",
                                 www_authenticate="", metrics=metrics))


async def run(app: Any, count: int) -> float:
    """Seconds per request for ``count`` sequential GETs through ASGI."""
    scope = {"type": "http", "http_version": "1.1", "method": "GET", "path": "/v1/ping/abc",
             "raw_path": b"/v1/ping/abc", "query_string": b"", "headers": [(b"host", b"bench")],
             "scheme": "http", "server": ("bench", 80), "root_path": ""}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            assert message["status"] == 200, message

    started = time.perf_counter()
    for _ in range(count):
        await app(dict(scope), receive, send)
    return (time.perf_counter() - started) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=20000)
    args = parser.parse_args()

    metrics = Metrics()
    measured = make_app(metrics)
    original = Metrics.http_route
    Metrics.http_route = lambda self, service, path: lambda method, status, seconds: None  # type: ignore[method-assign]
    try:
        bare = make_app(Metrics())
    finally:
        Metrics.http_route = original  # type: ignore[method-assign]

    async def rounds() -> tuple[list[float], list[float]]:
        timed: tuple[list[float], list[float]] = ([], [])
        for _ in range(ROUNDS):  # interleaved in one loop: both see the same machine load
            timed[0].append(await run(measured, args.requests // ROUNDS))
            timed[1].append(await run(bare, args.requests // ROUNDS))
        return timed

    with_metrics, without = asyncio.run(rounds())
    counted = metrics.registry.get_sample_value("pocketstack_http_requests_total", {
        "service": "bench", "route": "/v1/ping/{item}", "method": "GET", "status": "200"})
    assert counted == ROUNDS * (args.requests // ROUNDS), counted

    observe = metrics.http_route("bench", "/v1/ping/{item}")
    started = time.perf_counter()
    for _ in range(args.requests):
        observe("GET", 200, 0.001)
    bare_observe = (time.perf_counter() - started) / args.requests

    best_with, best_without = statistics.median(with_metrics), statistics.median(without)
    print(f"requests: {args.requests} per variant, in {ROUNDS} interleaved rounds; medians")
    print(f"without metrics: {best_without * 1e6:8.1f} µs/request")
    print(f"with metrics:    {best_with * 1e6:8.1f} µs/request")
    print(f"overhead:        {(best_with - best_without) * 1e6:8.1f} µs/request "
          f"({(best_with - best_without) / best_without:.1%})")
    print(f"observe() alone: {bare_observe * 1e6:8.1f} µs")


if __name__ == "__main__":
    main()
