"""The operator's endpoints of a process: ``/healthcheck``, ``/healthcheck/ready``, ``/metrics``.

Served at the root of the API server (``pocketstack up``, ``pocketstack api``) and, when
``metrics_port`` is set, on a small listener of each worker process (``pocketstack
scheduler``, ``compute``, ``volume``, ``network-agent``): every process answers for
itself.  The health endpoints are public, as oslo.middleware's healthcheck is; metrics
are public unless ``metrics_public`` is off, then they need an admin token
(``X-Auth-Token``), validated by Identity like any API request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pocketstack.common import errors
from pocketstack.common.context import RequestContext
from pocketstack.common.health import Check, answer
from pocketstack.common.metrics import CONTENT_TYPE, Metrics, Samples

if TYPE_CHECKING:
    from pocketstack.cloud import Cloud
    from pocketstack.common.db import Database
    from pocketstack.common.service import Service

Probe = Callable[[], list[Check]]
TokenValidator = Callable[[str], RequestContext]


def probe_routes(liveness: Probe, readiness: Probe, metrics: Metrics,
                 validate_token: TokenValidator | None) -> list[Route]:
    """The three routes; ``validate_token`` None makes ``/metrics`` public.  Probes and the
    exposition run in a worker thread: they read the database."""

    async def healthcheck(request: Request) -> Response:
        return answer(request, await run_in_threadpool(liveness))

    async def ready(request: Request) -> Response:
        return answer(request, await run_in_threadpool(readiness))

    async def exposition(request: Request) -> Response:
        if validate_token is not None:
            refused = await run_in_threadpool(_refusal, validate_token, request.headers.get("x-auth-token"))
            if refused is not None:
                return refused
        return Response(await run_in_threadpool(metrics.exposition), media_type=CONTENT_TYPE)

    return [Route("/healthcheck", healthcheck, methods=["GET", "HEAD"]),
            Route("/healthcheck/ready", ready, methods=["GET", "HEAD"]),
            Route("/metrics", exposition, methods=["GET"])]


def _refusal(validate_token: TokenValidator, token: str | None) -> Response | None:
    """None for an admin's token; else the 401 or 403 (plain text, as the exposition is)."""
    try:
        context = validate_token(token) if token else None
    except errors.ApiError:
        context = None
    if context is None:
        return Response("metrics need an admin token (X-Auth-Token)\n", status_code=401, media_type="text/plain")
    if not context.is_admin:
        return Response("metrics are for admins\n", status_code=403, media_type="text/plain")
    return None


def sample_process(cloud: Cloud) -> None:
    """Register the gauges read at each scrape of ``cloud``'s metrics: its services'
    states, its RPC queues where the transport can tell, and -- in API processes, once per
    deployment's worth of scrapes rather than in every worker -- the resources counted in
    the database."""
    metrics = cloud.metrics
    metrics.sample("pocketstack_service_up", "1 once a service this process runs has started, else 0",
                   ["service"], lambda: (((name,), float(up)) for name, up in cloud.service_states().items()))

    def queue_depths() -> Samples:
        transport = cloud.built_transport
        return [] if transport is None else [((queue,), depth) for queue, depth in transport.queue_depths().items()]

    def calls_waiting() -> Samples:
        transport = cloud.built_transport
        return [] if transport is None else [((), transport.calls_waiting)]

    metrics.sample("pocketstack_rpc_queue_depth", "Messages waiting in an RPC queue (in-process transport only)",
                   ["queue"], queue_depths)
    metrics.sample("pocketstack_rpc_calls_waiting", "RPC calls of this process waiting for their reply", [],
                   calls_waiting)
    if "api" in cloud.roles:
        metrics.sample("pocketstack_resources", "Resources in the database, by service, kind and state",
                       ["service", "resource", "state"], lambda: resource_counts(cloud.db, cloud.services))


def resource_counts(db: Database, services: list[Service]) -> Samples:
    """One ``COUNT`` per counted resource (grouped by its state column), in one read-only
    transaction."""
    samples: list[tuple[tuple[str, ...], float]] = []
    with db.session(readonly=True) as session:
        for service in services:
            for counted in service.counted:
                if counted.state is None:
                    total = session.scalar(sa.select(sa.func.count()).select_from(counted.model)) or 0
                    samples.append(((service.name, counted.resource, ""), total))
                    continue
                column = getattr(counted.model, counted.state)
                for state, count in session.execute(sa.select(column, sa.func.count()).group_by(column)):
                    samples.append(((service.name, counted.resource, str(state or "")), count))
    return samples
