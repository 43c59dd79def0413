"""Prometheus metrics of one process, in a registry of its own.

Every :class:`~pocketstack.cloud.Cloud` owns one :class:`Metrics`: its database, RPC
transport and service APIs count into it, and ``/metrics`` exposes it (never the
``prometheus_client`` global registry, so two clouds in one test process keep their
counts apart).  The counting points are few and fixed: the one request wrapper
(``common/api/app.py``), the RPC client and server, and the database retry loops
(``common/db/cas.py``, ``common/db/replay.py``).  Values that are cheaper to read than
to keep up to date (queue depths, resource counts) are sampled at scrape time by
functions registered with :meth:`Metrics.sample`.

When several processes serve one API port (``--api-workers``, :mod:`pocketstack.cli.api_workers`),
a scrape reaches any one of them, so they keep their counts in files of one directory
(prometheus_client's multiprocess mode, chosen by ``PROMETHEUS_MULTIPROC_DIR`` before the
library is imported: :func:`pocketstack.cli.api_workers.share_metrics`) and whichever
answers sums them all; the sampled gauges are read by the process that answers.

Label values are bounded: an HTTP request is counted under its *declared* route
(``/v2.1/servers/{server_id}``), never its raw path, and an RPC message under its topic.
The metric names and their meaning are listed in docs/operations.md.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

LOG = logging.getLogger(__name__)

# Set (to a directory) in processes that share their counts with the others serving one port.
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Seconds; an in-process API answers in milliseconds, a boot request or a large upload in seconds.
HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
RPC_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0, 60.0)
# Methods counted under their own name; anything else a client may send is "other".
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "COPY"})

# What a sampler returns: one (label values, value) pair per series.
Samples = Iterable[tuple[tuple[str, ...], float]]


class _Sampled(Collector):
    """A gauge family whose series are read by ``sample()`` at every scrape."""

    def __init__(self, name: str, documentation: str, labels: list[str], sample: Callable[[], Samples]):
        self.name, self.documentation, self.labels, self.sample = name, documentation, labels, sample

    def describe(self) -> list[Metric]:
        return [GaugeMetricFamily(self.name, self.documentation, labels=self.labels)]

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(self.name, self.documentation, labels=self.labels)
        try:
            for values, value in self.sample():
                family.add_metric(list(values), value)
        except Exception:  # noqa: BLE001 - one unreadable source must not fail the whole scrape
            LOG.exception("could not sample %s", self.name)
        yield family


class Metrics:
    """The counters and histograms of one process, and the samplers read at scrape time."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._sampled: list[_Sampled] = []
        registry = self.registry
        self.http_requests = Counter(
            "pocketstack_http_requests", "HTTP requests answered by a service API, by declared route and status",
            ["service", "route", "method", "status"], registry=registry)
        self.http_unmatched = Counter(
            "pocketstack_http_unmatched_requests", "HTTP requests for no declared route (404/405 by the router)",
            ["service", "method", "status"], registry=registry)
        self.http_duration = Histogram(
            "pocketstack_http_request_duration_seconds",
            "Seconds from a request's arrival to its response headers, by declared route",
            ["service", "route", "method"], buckets=HTTP_BUCKETS, registry=registry)
        self.rpc_sent = Counter("pocketstack_rpc_sent", "RPC requests sent, by topic and kind (cast or call)",
                                ["topic", "kind"], registry=registry)
        self.rpc_timeouts = Counter(
            "pocketstack_rpc_timeouts",
            "RPC calls without a reply in time, and casts the transport did not accept in time",
            ["topic", "kind"], registry=registry)
        self.rpc_call_duration = Histogram("pocketstack_rpc_call_duration_seconds",
                                           "Seconds an RPC call waited for its reply", ["topic"],
                                           buckets=RPC_BUCKETS, registry=registry)
        self.rpc_handled = Counter(
            "pocketstack_rpc_handled", "RPC requests run by this process's servers, by outcome (ok or error)",
            ["topic", "kind", "outcome"], registry=registry)
        self.db_conflicts = Counter(
            "pocketstack_db_conflicts",
            "Database conflicts met: a compare-and-swap lost (cas) or a deadlock, serialization or "
            "certification failure (database); scope transaction (run_in_transaction) or request (a handler)",
            ["scope", "kind"], registry=registry)
        self.db_retries = Counter(
            "pocketstack_db_retries", "Units of work re-run after a conflict: transactions, or whole requests "
                                      "replayed", ["scope"], registry=registry)
        self.db_retries_exhausted = Counter(
            "pocketstack_db_retries_exhausted", "Units of work that kept conflicting beyond their retry budget",
            ["scope"], registry=registry)

    # -- HTTP -------------------------------------------------------------------------------
    def http_route(self, service: str, route: str) -> Callable[[str, int, float], None]:
        """The observer of one declared route: ``observe(method, status, seconds)``.

        Label children are looked up once per (method, status) and kept, so the hot path
        is two dictionary lookups and two increments."""
        counters: dict[tuple[str, int], Any] = {}
        durations: dict[str, Any] = {}

        def observe(method: str, status: int, seconds: float) -> None:
            counter = counters.get((method, status))
            if counter is None:
                counter = counters[method, status] = self.http_requests.labels(service, route, method, str(status))
            duration = durations.get(method)
            if duration is None:
                duration = durations[method] = self.http_duration.labels(service, route, method)
            counter.inc()
            duration.observe(seconds)
        return observe

    def http_unrouted(self, service: str, method: str, status: int) -> None:
        """A request the router answered itself (no declared route for its path or method)."""
        self.http_unmatched.labels(service, method if method in METHODS else "other", str(status)).inc()

    # -- RPC --------------------------------------------------------------------------------
    def rpc_cast(self, topic: str) -> None:
        self.rpc_sent.labels(topic, "cast").inc()

    def rpc_call(self, topic: str, seconds: float, timed_out: bool) -> None:
        self.rpc_sent.labels(topic, "call").inc()
        if timed_out:
            self.rpc_timeouts.labels(topic, "call").inc()
        else:
            self.rpc_call_duration.labels(topic).observe(seconds)

    def rpc_cast_timeout(self, topic: str) -> None:
        self.rpc_timeouts.labels(topic, "cast").inc()

    def rpc_served(self, topic: str, kind: str, ok: bool) -> None:
        self.rpc_handled.labels(topic, kind, "ok" if ok else "error").inc()

    # -- database ---------------------------------------------------------------------------
    def db_conflict(self, scope: str, kind: str) -> None:
        self.db_conflicts.labels(scope, kind).inc()

    def db_retry(self, scope: str) -> None:
        self.db_retries.labels(scope).inc()

    def db_gave_up(self, scope: str) -> None:
        self.db_retries_exhausted.labels(scope).inc()

    # -- sampled at scrape time ---------------------------------------------------------------
    def sample(self, name: str, documentation: str, labels: list[str], sample: Callable[[], Samples]) -> None:
        """Expose gauge ``name``, read by ``sample()`` at each scrape (a failing sampler is
        logged and leaves its family empty)."""
        sampled = _Sampled(name, documentation, labels, sample)
        self._sampled.append(sampled)
        self.registry.register(sampled)

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format (blocking: samplers may read the
        database); with processes sharing their counts, the sum of all of theirs."""
        shared = os.environ.get(MULTIPROCESS_ENV)
        if not shared:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=shared)
        for sampled in self._sampled:
            registry.register(sampled)
        return generate_latest(registry)


# What objects built without a cloud (unit tests, tools) count into; nothing exposes it.
DISCARD = Metrics()
