"""Nothing stays in a ``*-ing`` state for ever: the sweeps of the scheduler and the hosts
(compute/worker.py) deal with instances whose cast expired or whose host is down, and
os-services reports a host down when it is."""

from __future__ import annotations

import datetime as dt

import pytest

from pocketstack.common.db import utcnow
from pocketstack.compute import states as st
from pocketstack.compute.transitions import transition
from pocketstack.compute.worker import ComputeWorker, SchedulerWorker

from compute_fixtures import image, user  # noqa: F401 - fixtures
from conftest import unique
from test_compute_helpers import add_hosts, boot, call, make_flavor, retire, wait, wait_gone


@pytest.fixture(scope="module")
def flavor(api, admin_token):
    return make_flavor(api, admin_token)


def worker(api, kind):
    return next(w for w in api.cloud.service("compute").workers if isinstance(w, kind))


def after_the_ttl(api) -> dt.datetime:
    """A moment at which every cast sent until now has expired."""
    return utcnow() + dt.timedelta(seconds=api.cloud.settings.rpc_cast_ttl + 60)


def service_of(api, admin_token, host: str) -> dict:
    services = call(api, "GET", f"/os-services?host={host}&binary=nova-compute", admin_token).json()["services"]
    assert len(services) == 1, services
    return services[0]


def force_down(api, admin_token, host: str, down: bool) -> None:
    service = service_of(api, admin_token, host)
    r = call(api, "PUT", f"/os-services/{service['id']}", admin_token, json={"forced_down": down})
    assert r.status_code == 200, r.text


def test_build_no_scheduler_took_becomes_error(api, user, image, flavor):
    token = user["token"]
    server_id = boot(api, token, image, flavor["id"])["server"]["id"]
    wait(api, token, server_id)
    db = api.cloud.service("compute").compute.db
    # As if the build cast had expired in the queue: scheduling, no host, nobody on it.
    assert transition(db, server_id, {"task_state": None},
                      {"vm_state": st.BUILDING, "task_state": st.SCHEDULING, "host": None})
    worker(api, SchedulerWorker).sweep(now=after_the_ttl(api))
    server = wait(api, token, server_id)
    assert server["status"] == "ERROR" and "expired" in server["fault"]["message"], server.get("fault")
    assert call(api, "DELETE", f"/servers/{server_id}", token).status_code == 204
    wait_gone(api, token, server_id)


def test_host_resumes_its_abandoned_operation(api, user, image, flavor):
    token = user["token"]
    server_id = boot(api, token, image, flavor["id"])["server"]["id"]
    wait(api, token, server_id)
    db = api.cloud.service("compute").compute.db
    # As if the stop cast had expired, or the host had died running it.
    assert transition(db, server_id, {"task_state": None}, {"task_state": st.POWERING_OFF})
    worker(api, ComputeWorker).sweep(now=after_the_ttl(api))
    assert wait(api, token, server_id)["status"] == "SHUTOFF"
    assert call(api, "DELETE", f"/servers/{server_id}", token).status_code == 204
    wait_gone(api, token, server_id)


def test_operations_on_a_down_host_are_failed_or_finished_locally(api, admin_token, user, image, flavor):
    token = user["token"]
    zone = unique("zone")
    nodes = add_hosts(api, zone, [8])
    host = nodes[0].host
    rebooting, deleting = [boot(api, token, image, flavor["id"], availability_zone=zone)["server"]["id"]
                           for _ in range(2)]
    for server_id in (rebooting, deleting):
        assert wait(api, token, server_id)["status"] == "ACTIVE"
    assert service_of(api, admin_token, host)["state"] == "up"
    force_down(api, admin_token, host, True)
    try:
        assert service_of(api, admin_token, host)["state"] == "down"
        # A host that is down gets no new instances.
        refused = boot(api, token, image, flavor["id"], availability_zone=zone)["server"]["id"]
        assert wait(api, token, refused)["status"] == "ERROR"
        db = api.cloud.service("compute").compute.db
        assert transition(db, rebooting, {"task_state": None}, {"task_state": st.REBOOTING})
        assert transition(db, deleting, {"task_state": None}, {"task_state": st.DELETING})
        worker(api, SchedulerWorker).sweep(now=after_the_ttl(api))
        failed = wait(api, token, rebooting)
        assert failed["status"] == "ERROR" and host in failed["fault"]["message"], failed.get("fault")
        wait_gone(api, token, deleting)
    finally:
        force_down(api, admin_token, host, False)
    assert service_of(api, admin_token, host)["state"] == "up"
    for server_id in (rebooting, refused):
        call(api, "DELETE", f"/servers/{server_id}", token)
        wait_gone(api, token, server_id)
    retire(api, nodes)
