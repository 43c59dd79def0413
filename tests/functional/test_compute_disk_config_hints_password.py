"""``OS-DCF:diskConfig``, the ``same_host`` / ``different_host`` scheduler hints and the
``changePassword`` action, against the real cloud and its fake hosts (Nova's semantics:
``nova/api/openstack/compute/helpers.py``, ``scheduler/filters/affinity_filter.py``,
``admin_password.py``)."""

from __future__ import annotations

import uuid

import pytest
from test_compute_actions import act, server  # noqa: F401 - a booted server of this module's flavor

from pocketstack.compute.drivers.base import GuestAgentMissing

from compute_fixtures import image, user  # noqa: F401 - fixtures
from conftest import unique
from support import require_tools
from test_compute_helpers import add_hosts, boot, call, make_flavor, make_image, retire, wait, wait_gone


@pytest.fixture(scope="module")
def flavor(api, admin_token):
    return make_flavor(api, admin_token, vcpus=1, ram=64, disk=1)


@pytest.fixture(scope="module")
def bigger(api, admin_token):
    return make_flavor(api, admin_token, vcpus=1, ram=128, disk=2)


def disk_config(api, token, server_id) -> str:
    return wait(api, token, server_id)["OS-DCF:diskConfig"]


# -- OS-DCF:diskConfig ---------------------------------------------------------------------
def test_disk_config_on_create_update_rebuild_and_resize(api, admin_token, user, image, flavor, bigger):  # noqa: F811
    token = user["token"]
    created = boot(api, token, image, flavor["id"], **{"OS-DCF:diskConfig": "AUTO"})["server"]
    assert created["OS-DCF:diskConfig"] == "AUTO"
    server_id = created["id"]
    assert disk_config(api, token, server_id) == "AUTO"
    listed = call(api, "GET", "/servers/detail", token).json()["servers"]
    assert {s["id"]: s["OS-DCF:diskConfig"] for s in listed}[server_id] == "AUTO"
    # Only AUTO and MANUAL, on each of the four (Nova's parameter_types.disk_config).
    assert boot(api, token, image, flavor["id"], expect=400, **{"OS-DCF:diskConfig": "auto"})
    for body in ({"rebuild": {"imageRef": image, "OS-DCF:diskConfig": "SOMETIMES"}},
                 {"resize": {"flavorRef": bigger["id"], "OS-DCF:diskConfig": ""}}):
        act(api, token, server_id, body, expect=400)
    assert call(api, "PUT", f"/servers/{server_id}", token,
                json={"server": {"OS-DCF:diskConfig": 1}}).status_code == 400
    # Update sets it as asked.
    r = call(api, "PUT", f"/servers/{server_id}", token, json={"server": {"OS-DCF:diskConfig": "MANUAL"}})
    assert r.status_code == 200 and r.json()["server"]["OS-DCF:diskConfig"] == "MANUAL"
    # Rebuild: as asked, else the image's property (none here: MANUAL).
    r = act(api, token, server_id, {"rebuild": {"imageRef": image, "OS-DCF:diskConfig": "AUTO"}})
    assert r.json()["server"]["OS-DCF:diskConfig"] == "AUTO"
    assert disk_config(api, token, server_id) == "AUTO"
    act(api, token, server_id, {"rebuild": {"imageRef": image}})
    assert disk_config(api, token, server_id) == "MANUAL"
    # Resize: as asked, else MANUAL (Nova's ``auto_disk_config or False``).
    act(api, token, server_id, {"resize": {"flavorRef": bigger["id"], "OS-DCF:diskConfig": "AUTO"}})
    assert disk_config(api, token, server_id) == "AUTO"
    act(api, token, server_id, {"revertResize": None})
    assert disk_config(api, token, server_id) == "AUTO"  # a revert leaves it, as Nova's
    act(api, token, server_id, {"resize": {"flavorRef": bigger["id"]}})
    assert disk_config(api, token, server_id) == "MANUAL"
    act(api, token, server_id, {"confirmResize": None}, expect=204)
    call(api, "DELETE", f"/servers/{server_id}", token)
    wait_gone(api, token, server_id)


def test_the_image_property_gives_the_default_or_forbids_auto(api, admin_token, user, flavor):
    token = user["token"]
    auto = make_image(api, admin_token, auto_disk_config="True")
    disabled = make_image(api, admin_token, auto_disk_config="disabled")
    plain = make_image(api, admin_token)
    # The compute images API shows it only for an image that has the property.
    shown = {i: call(api, "GET", f"/images/{i}", token, version="2.35").json()["image"]  # the proxy ends at 2.35
             for i in (auto, disabled, plain)}
    assert shown[auto]["OS-DCF:diskConfig"] == "AUTO" and shown[disabled]["OS-DCF:diskConfig"] == "MANUAL"
    assert "OS-DCF:diskConfig" not in shown[plain]
    by_default = boot(api, token, auto, flavor["id"])["server"]
    assert by_default["OS-DCF:diskConfig"] == "AUTO"
    body = boot(api, token, disabled, flavor["id"], expect=400, **{"OS-DCF:diskConfig": "AUTO"})
    assert body["badRequest"]["message"] == f"Requested image {disabled} has automatic disk resize disabled."
    manual = boot(api, token, disabled, flavor["id"])["server"]
    assert manual["OS-DCF:diskConfig"] == "MANUAL"
    # A rebuild onto the disabling image refuses AUTO too, and leaves the server as it was.
    wait(api, token, by_default["id"])
    r = call(api, "POST", f"/servers/{by_default['id']}/action", token,
             json={"rebuild": {"imageRef": disabled, "OS-DCF:diskConfig": "AUTO"}})
    assert r.status_code == 400, r.text
    assert disk_config(api, token, by_default["id"]) == "AUTO"
    for server_id in (by_default["id"], manual["id"]):
        call(api, "DELETE", f"/servers/{server_id}", token)
        wait_gone(api, token, server_id)


# -- same_host / different_host ------------------------------------------------------------
def test_same_host_and_different_host_hints(api, admin_token, image, flavor):  # noqa: F811
    zone = unique("az")
    nodes = add_hosts(api, zone, [4, 4])
    booted: list[str] = []

    def place(expect_status="ACTIVE", **hints) -> str | None:
        server_id = boot(api, admin_token, image, flavor["id"], availability_zone=zone, hints=hints)["server"]["id"]
        booted.append(server_id)
        server = wait(api, admin_token, server_id)
        assert server["status"] == expect_status, server
        return server["OS-EXT-SRV-ATTR:host"]

    try:
        first = place()
        assert first in {n.host for n in nodes}
        first_id = booted[0]
        assert place(same_host=first_id) == first
        assert place(same_host=[first_id]) == first
        other = place(different_host=first_id)
        assert other != first and other in {n.host for n in nodes}
        assert place(different_host=[first_id]) == other
        # Both servers' hosts are ruled out: nothing is left in the zone.
        assert place("ERROR", different_host=[first_id, booted[3]]) is None
        # Servers on no host (unknown ids) leave same_host nothing to follow.
        assert place("ERROR", same_host=[str(uuid.uuid4())]) is None
        assert place(different_host=str(uuid.uuid4())) in {n.host for n in nodes}
        # The schema: server ids only (a lone same_host string is not checked, as Nova's).
        for hints in ({"different_host": "not-a-uuid"}, {"different_host": ["x"]}, {"same_host": ["x"]},
                      {"different_host": 3}):
            boot(api, admin_token, image, flavor["id"], availability_zone=zone, hints=hints, expect=400)
    finally:
        for server_id in booted:
            call(api, "DELETE", f"/servers/{server_id}", admin_token)
        for server_id in booted:
            wait_gone(api, admin_token, server_id)
        retire(api, nodes)


# -- changePassword ------------------------------------------------------------------------
def test_change_password_reaches_the_guest(api, admin_token, user, server):
    token = user["token"]
    r = act(api, token, server, {"changePassword": {"adminPass": "Newpass1234"}})
    assert r.content == b""
    assert wait(api, token, server)["status"] == "ACTIVE"
    host = wait(api, admin_token, server)["OS-EXT-SRV-ATTR:host"]
    driver = api.cloud.service("compute").compute.hosts.driver(host)
    assert driver._guests[server].admin_password == "Newpass1234"
    console = act(api, token, server, {"os-getConsoleOutput": {}}, expect=200).json()["output"]
    assert "password changed for root" in console
    actions = call(api, "GET", f"/servers/{server}/os-instance-actions", token).json()["instanceActions"]
    change = next(a for a in actions if a["action"] == "changePassword")
    detail = call(api, "GET", f"/servers/{server}/os-instance-actions/{change['request_id']}",
                  admin_token).json()["instanceAction"]
    assert [(e["event"], e["result"]) for e in detail["events"]] == [("compute_set_admin_password", "Success")]


def test_change_password_refusals(api, admin_token, user, server):
    token = user["token"]
    for body in ({"changePassword": {}}, {"changePassword": {"adminPass": 1}},
                 {"changePassword": {"adminPass": "x", "user": "root"}}, {"changePassword": None}):
        act(api, token, server, body, expect=400)
    act(api, admin_token, server, {"lock": None})
    act(api, token, server, {"changePassword": {"adminPass": "x"}}, expect=409)
    act(api, admin_token, server, {"unlock": None})
    act(api, token, server, {"os-stop": None})
    wait(api, token, server, until=("SHUTOFF",))
    r = act(api, token, server, {"changePassword": {"adminPass": "x"}}, expect=409)
    assert r.json()["conflictingRequest"]["message"] == (
        f"Cannot 'changePassword' instance {server} while it is in vm_state stopped")
    act(api, token, server, {"os-start": None})
    wait(api, token, server, until=("ACTIVE",))


def test_the_qemu_driver_answers_as_libvirt_without_a_guest_agent(tmp_path):
    """No agent asked for: Nova's QemuGuestAgentNotEnabled (409); asked for, but these guests
    get no agent channel: NotImplementedError (Nova's 501 for an agent that does not answer)."""
    require_tools({"qemu-system-x86_64": "qemu-system-x86"}, "the QEMU driver")
    from pocketstack.compute.drivers.qemu import QemuDriver

    driver = QemuDriver("h", tmp_path, accel="tcg")
    try:
        with pytest.raises(GuestAgentMissing):
            driver.set_admin_password("i", "pw", {})
        with pytest.raises(NotImplementedError):
            driver.set_admin_password("i", "pw", {"hw_qemu_guest_agent": "yes"})
    finally:
        driver.close()
