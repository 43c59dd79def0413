"""Health, readiness and metrics of a cloud, in process: ``/healthcheck`` in
oslo.middleware's format, ``/healthcheck/ready`` green only once every service and worker
is up, and ``/metrics`` parsed by prometheus_client's own parser, whose counters move as
requests, RPC messages and database conflicts happen."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.testclient import TestClient

from pocketstack.common import config, rpc
from pocketstack.common.db.cas import cas_update, run_in_transaction
from pocketstack.common.probes import probe_routes
from pocketstack.compute.models import Flavor

from conftest import ADMIN_PASSWORD, DEMO_PASSWORD


def samples(client: TestClient, headers: dict | None = None) -> dict[tuple, float]:
    """``/metrics`` as {(sample name, sorted labels): value}."""
    response = client.get("/metrics", headers=headers or {})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def value(found: dict[tuple, float], name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


# -- /healthcheck --------------------------------------------------------------------------

def test_healthcheck_answers_as_oslo_middleware(api):
    get = api.client.get("/healthcheck")
    assert (get.status_code, get.text, get.headers["content-type"]) == (200, "OK", "text/plain; charset=utf-8")
    head = api.client.head("/healthcheck")
    assert (head.status_code, head.content) == (204, b"")
    as_json = api.client.get("/healthcheck", headers={"Accept": "application/json"})
    assert as_json.json() == {"detailed": False, "reasons": ["OK"]}
    # Plain text wins a tie, as oslo offers it first.
    assert api.client.get("/healthcheck", headers={"Accept": "text/plain, application/json"}).text == "OK"
    detailed = api.client.get("/healthcheck?detailed=true").json()
    assert detailed["detailed"] is True and {"now", "python_version", "platform", "gc"} <= set(detailed)
    assert detailed["reasons"][0]["class"] == "database" and detailed["reasons"][0]["reason"] == "OK"


def test_swift_healthcheck_stays_at_the_object_store_path(api):
    response = api.client.get("/object-store/healthcheck")
    assert (response.status_code, response.text) == (200, "OK")


def test_ready_once_every_service_and_worker_is_up(private_cloud):
    # A cloud of its own: the shared test cloud's hosts are fenced and forced down by other tests.
    with TestClient(private_cloud.asgi_app()) as client:
        response = client.get("/healthcheck/ready")
        assert (response.status_code, response.text) == (200, "OK")
        checks = {r["class"]: r for r in client.get("/healthcheck/ready?detailed=1").json()["reasons"]}
    assert all(r["reason"] == "OK" for r in checks.values()), checks
    assert {"database", "services", "rpc", "compute.scheduler", "compute.hosts",
            "identity.revocation_pruner"} <= set(checks)
    assert checks["compute.hosts"]["details"] == "compute-1"
    assert any(name.startswith("network.agent") for name in checks)
    assert any(name.startswith("volume.host") for name in checks)


# -- readiness of a cloud that is not (or no longer) up -------------------------------------

@pytest.fixture
def private_cloud(tmp_path):
    """A cloud of its own (SQLite in ``tmp_path``): its services are started and stopped
    by the test, and its metrics are its own."""
    from pocketstack.cloud import Cloud

    settings = config.load(overrides={"data_dir": tmp_path, "bcrypt_rounds": 4, "fake_hosts": 1},
                         environ={})
    cloud = Cloud(settings, ["identity", "placement", "image", "network", "volume", "compute"])
    yield cloud
    cloud.close()


def test_not_ready_until_started_and_when_a_worker_is_down(private_cloud):
    app = private_cloud.asgi_app()
    # Not started (no lifespan yet): alive, not ready.
    idle = TestClient(app)
    assert idle.get("/healthcheck").status_code == 200
    response = idle.get("/healthcheck/ready")
    assert (response.status_code, response.text) == (503, "services: not started")
    assert idle.head("/healthcheck/ready").status_code == 503
    with TestClient(app) as client:
        assert client.get("/healthcheck/ready").status_code == 200
        # A host stops serving its RPC topic: not ready, and the reason says which.
        server = private_cloud.service("compute").workers[-1].servers["compute-1"]
        client.portal.call(server.stop)
        down = client.get("/healthcheck/ready", headers={"Accept": "application/json"})
        assert down.status_code == 503
        assert down.json() == {"detailed": False, "reasons": ["compute.hosts: not serving: compute-1"]}
        client.portal.call(server.start)
        assert client.get("/healthcheck/ready").status_code == 200
    # Stopped: not ready again.
    assert TestClient(app).get("/healthcheck/ready").status_code == 503


def test_each_cloud_counts_in_its_own_registry(private_cloud, api):
    with TestClient(private_cloud.asgi_app()) as client:
        for _ in range(2):
            client.get("/compute/v2.1/flavors")
        found = samples(client)
    assert value(found, "pocketstack_http_requests_total", service="compute", route="/v2.1/flavors",
                 method="GET", status="401") == 2
    assert value(found, "pocketstack_service_up", service="compute") == 1


# -- /metrics -------------------------------------------------------------------------------

def test_requests_counted_by_declared_route_and_status(api, admin_token):
    before = samples(api.client)
    for _ in range(3):
        assert api.request("GET", "/compute/v2.1/flavors", admin_token).status_code == 200
    missing = f"/compute/v2.1/flavors/{uuid.uuid4()}"
    assert api.request("GET", missing, admin_token).status_code == 404
    api.client.get("/compute/v2.1/no-such-collection")
    after = samples(api.client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    listing = dict(service="compute", route="/v2.1/flavors", method="GET")
    assert delta("pocketstack_http_requests_total", **listing, status="200") == 3
    assert delta("pocketstack_http_request_duration_seconds_count", **listing) == 3
    assert delta("pocketstack_http_request_duration_seconds_sum", **listing) > 0
    assert delta("pocketstack_http_requests_total", service="compute", route="/v2.1/flavors/{flavor_id}",
                 method="GET", status="404") == 1
    assert delta("pocketstack_http_unmatched_requests_total", service="compute", method="GET", status="404") == 1
    # The raw path never becomes a label value.
    assert not any(missing.rsplit("/", 1)[1] in str(key) for key in after)


def test_resources_counted_at_scrape_time(api, admin_token):
    def networks() -> float:
        found = samples(api.client)
        return sum(v for (name, labels), v in found.items()
                   if name == "pocketstack_resources" and ("resource", "networks") in labels)

    before = networks()
    created = api.request("POST", "/network/v2.0/networks", admin_token, json={"network": {"name": "counted"}})
    assert created.status_code == 201, created.text
    try:
        assert networks() == before + 1
    finally:
        api.request("DELETE", f"/network/v2.0/networks/{created.json()['network']['id']}", admin_token)


def test_cas_conflicts_and_retries_counted(api):
    cloud = api.cloud
    attempts = []

    def work(session):
        attempts.append(1)
        if len(attempts) == 1:  # a compare-and-swap that finds the row changed: no row matches
            cas_update(session, Flavor, {"id": f"gone-{uuid.uuid4()}"}, {"name": "x"})
        return session.scalar(sa.select(sa.func.count()).select_from(Flavor))

    before = samples(api.client)
    run_in_transaction(cloud.db, work)
    after = samples(api.client)
    assert len(attempts) == 2
    for name, labels in (("pocketstack_db_conflicts_total", {"scope": "transaction", "kind": "cas"}),
                         ("pocketstack_db_retries_total", {"scope": "transaction"})):
        assert value(after, name, **labels) - value(before, name, **labels) == 1


def test_rpc_casts_queue_depth_and_call_timeouts_counted(api):
    topic = f"obs-{uuid.uuid4().hex[:8]}"  # nobody serves it
    client = rpc.RPCClient(api.cloud.transport, topic, timeout=0.05, ttl=5)

    async def exercise():
        await client.cast("noop")
        with pytest.raises(rpc.Timeout):
            await client.call("noop")

    before = samples(api.client)
    asyncio.run(exercise())
    after = samples(api.client)
    assert value(after, "pocketstack_rpc_sent_total", topic=topic, kind="cast") == 1
    assert value(after, "pocketstack_rpc_sent_total", topic=topic, kind="call") == 1
    assert value(after, "pocketstack_rpc_timeouts_total", topic=topic, kind="call") == 1
    assert value(after, "pocketstack_rpc_queue_depth", queue=topic) == 2  # the cast and the call wait
    assert value(before, "pocketstack_rpc_timeouts_total", topic=topic, kind="call") == 0


def test_metrics_for_admins_only_when_not_public(api):
    cloud = api.cloud
    routes = probe_routes(cloud.liveness, cloud.readiness, cloud.metrics, cloud.identity.validate_token)
    client = TestClient(Starlette(routes=routes))
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"X-Auth-Token": "not-a-token"}).status_code == 401
    assert client.get("/metrics", headers={"X-Auth-Token": api.token("demo", DEMO_PASSWORD, "demo")}).status_code \
        == 403
    admin = api.token("admin", ADMIN_PASSWORD, "admin")
    assert "pocketstack_http_requests_total" in json.dumps(list(samples(client, {"X-Auth-Token": admin})))
    # The health checks stay public.
    assert client.get("/healthcheck").status_code == 200


def test_readiness_covers_every_region_served(tmp_path):
    from pocketstack.cloud import Cloud

    settings = config.load(overrides={"data_dir": tmp_path, "bcrypt_rounds": 4, "fake_hosts": 1,
                                      "regions": "RegionTwo"}, environ={})
    cloud = Cloud(settings)
    try:
        app = cloud.asgi_app()
        idle = TestClient(app).get("/healthcheck/ready")
        assert idle.text.splitlines() == ["services: not started", "RegionTwo/services: not started"]
        with TestClient(app) as client:
            checks = {r["class"]: r["reason"] for r in client.get("/healthcheck/ready?detailed=1").json()["reasons"]}
            assert checks["RegionTwo/compute.hosts"] == checks["compute.hosts"] == "OK"
            assert client.get("/regions/RegionTwo/healthcheck/ready").text == "OK"
            client.get("/regions/RegionTwo/compute/v2.1/flavors")
            region = {(s.name, s.labels.get("route")) for f in text_string_to_metric_families(
                client.get("/regions/RegionTwo/metrics").text) for s in f.samples}
            assert ("pocketstack_http_requests_total", "/v2.1/flavors") in region  # the region's own registry
    finally:
        cloud.close()
