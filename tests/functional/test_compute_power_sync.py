"""Power-state sync (Nova's ``_sync_power_states``) and resume_guests_state_on_host_boot,
as the compute manager runs them for a host (periodically and at start on QEMU hosts).

The guests here are the fake hypervisor's, changed behind the cloud's back the way a real
guest changes (shut down from inside, or its host rebooted); the QEMU end to end version
is tests/integration/test_qemu_guests.py."""

from __future__ import annotations

import pytest

from pocketstack.compute import states as st
from pocketstack.compute.transitions import load, transition

from compute_fixtures import image, user  # noqa: F401 - fixtures
from test_compute_helpers import boot, call, make_flavor, wait, wait_gone


@pytest.fixture(scope="module")
def flavor(api, admin_token):
    return make_flavor(api, admin_token)


@pytest.fixture
def server(api, user, image, flavor):
    token = user["token"]
    server_id = boot(api, token, image, flavor["id"])["server"]["id"]
    assert wait(api, token, server_id)["status"] == "ACTIVE"
    yield server_id
    assert call(api, "DELETE", f"/servers/{server_id}", token).status_code == 204
    wait_gone(api, token, server_id)


def parts(api, server_id):
    compute = api.cloud.service("compute").compute
    inst = load(compute.db, server_id)
    return compute.manager, compute.hosts.driver(inst.host), inst.host, compute.db


def test_a_guest_shut_down_from_inside_makes_the_server_shutoff(api, user, server):
    manager, driver, host, db = parts(api, server)
    driver.power_off(server)  # from inside: the cloud was not asked
    manager.sync_power_states(host)
    shown = wait(api, user["token"], server)
    assert shown["status"] == "SHUTOFF" and shown["OS-EXT-STS:power_state"] == st.SHUTDOWN


def test_a_server_in_a_task_state_is_never_flipped(api, user, server):
    manager, driver, host, db = parts(api, server)
    driver.power_off(server)
    assert transition(db, server, {"task_state": None}, {"task_state": st.REBOOTING})
    manager.sync_power_states(host)
    inst = load(db, server)
    assert (inst.vm_state, inst.task_state, inst.power_state) == (st.ACTIVE, st.REBOOTING, st.RUNNING)
    assert transition(db, server, {"task_state": st.REBOOTING}, {"task_state": None})


def test_a_paused_guest_records_its_power_state_only(api, user, server):
    manager, driver, host, db = parts(api, server)
    driver.pause(server)  # paused under the server (e.g. by the hypervisor): recorded, not acted on
    manager.sync_power_states(host)
    inst = load(db, server)
    assert (inst.vm_state, inst.power_state) == (st.ACTIVE, st.POWER_PAUSED)


def test_a_shutoff_server_whose_guest_runs_is_powered_off(api, user, server):
    manager, driver, host, db = parts(api, server)
    assert call(api, "POST", f"/servers/{server}/action", user["token"], json={"os-stop": None}).status_code == 202
    assert wait(api, user["token"], server)["status"] == "SHUTOFF"
    driver.power_on(server)  # started behind the cloud's back
    manager.sync_power_states(host)
    assert driver.power_state(server) == st.SHUTDOWN
    inst = load(db, server)
    assert (inst.vm_state, inst.task_state, inst.power_state) == (st.STOPPED, None, st.SHUTDOWN)


def test_resume_on_host_boot_starts_what_was_running(api, user, server):
    manager, driver, host, db = parts(api, server)
    driver.power_off(server)  # the host went down with the guest running
    assert server in manager.resume_guests_state_on_host_boot(host)
    assert driver.power_state(server) == st.RUNNING
    inst = load(db, server)
    assert (inst.vm_state, inst.power_state) == (st.ACTIVE, st.RUNNING)
    assert server not in manager.resume_guests_state_on_host_boot(host)  # running: left alone
