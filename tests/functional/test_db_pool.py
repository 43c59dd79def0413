"""The database connection pool: sized by settings and process kind, and a request that
cannot get a connection in time is a 503 with Retry-After, never a 500."""

from __future__ import annotations

import dataclasses

import pytest
from starlette.testclient import TestClient

from pocketstack.cloud import Cloud
from pocketstack.common.db.engine import PoolLimits

from conftest import ADMIN_PASSWORD


@pytest.mark.parametrize("serves_api, sqlite, expected", [
    (True, False, (8, 12)), (False, False, (3, 5)), (True, True, (20, 40)), (False, True, (20, 40)),
])
def test_default_pool_by_process_kind(serves_api, sqlite, expected):
    assert PoolLimits(serves_api=serves_api).resolved(sqlite) == expected
    assert PoolLimits(2, 0, serves_api=serves_api).resolved(sqlite) == (2, 0)


def _cloud(settings, roles: str, **pool) -> Cloud:
    return Cloud(dataclasses.replace(settings, roles=roles, **pool), services=["identity", "compute"],
                 migrate=False)


def test_cloud_pool_follows_settings(settings, backend):
    sqlite = backend == "sqlite"
    worker = _cloud(settings, "scheduler,compute")
    tuned = _cloud(settings, "api", database_pool_size=4, database_max_overflow=1)
    try:
        assert (worker.db.engine.pool.size(), worker.db.engine.pool._max_overflow) == (
            (20, 40) if sqlite else (3, 5))
        assert (tuned.db.engine.pool.size(), tuned.db.engine.pool._max_overflow) == (4, 1)
    finally:
        worker.close()
        tuned.close()


def test_exhausted_pool_is_503_with_retry_after_in_each_format(settings, api):
    token = api.token("admin", ADMIN_PASSWORD, project="admin")
    starved = _cloud(settings, "api", database_pool_size=1, database_max_overflow=0, database_pool_timeout=0.2)
    try:
        with TestClient(starved.asgi_app(), base_url="http://127.0.0.1:8780") as client:
            headers = {"X-Auth-Token": token}
            assert client.get("/compute/v2.1/flavors", headers=headers).status_code == 200
            with starved.db.engine.connect():      # the pool's only connection, held
                identity = client.get("/identity/v3/auth/projects", headers=headers)
                compute = client.get("/compute/v2.1/flavors", headers=headers)
            assert identity.status_code == 503, identity.text
            assert identity.headers["Retry-After"] == "2"
            assert identity.json()["error"]["code"] == 503
            assert compute.status_code == 503, compute.text
            assert compute.headers["Retry-After"] == "2"
            assert compute.json()["serviceUnavailable"]["code"] == 503
            # The connection is back: the same requests succeed again.
            assert client.get("/compute/v2.1/flavors", headers=headers).status_code == 200
    finally:
        starved.close()
