"""Neutron's trunks (``trunk`` and ``trunk-details``), in Neutron's formats and with its
rules: a port in one trunk at most, one subport per VLAN, the parent's binding deciding
the status and whether the trunk may go, disabled trunks locked, trunk ports undeletable."""

from __future__ import annotations

import threading
import uuid

import pytest

from conftest import unique

NET = "/network/v2.0"


def call(api, method, path, token, body=None, status=None):
    r = api.request(method, f"{NET}{path}", token, json=body)
    if status is not None:
        assert r.status_code == status, r.text
    return r


def create(api, token, collection, member, body, status=201):
    r = call(api, "POST", f"/{collection}", token, {member: body}, status)
    return r.json()[member] if status == 201 else r.json()["NeutronError"]


def error(api, method, path, token, body, status) -> dict:
    return call(api, method, path, token, body, status).json()["NeutronError"]


def vlan(port: dict, seg_id: int) -> dict:
    return {"port_id": port["id"], "segmentation_type": "vlan", "segmentation_id": seg_id}


@pytest.fixture(scope="module")
def network(api, demo_token):
    return create(api, demo_token, "networks", "network", {"name": unique("trunknet")})


@pytest.fixture
def port(api, demo_token, network):
    """A fresh port of the demo project's (``port()``)."""
    def make(**attrs) -> dict:
        return create(api, demo_token, "ports", "port", {"network_id": network["id"], "name": unique("tp"), **attrs})
    return make


def trunk_of(api, token, parent: dict, *subports: dict, **attrs) -> dict:
    return create(api, token, "trunks", "trunk", {"port_id": parent["id"], "sub_ports": list(subports), **attrs})


# -- discovery ---------------------------------------------------------------------------------
def test_extensions_and_resource_listed(api, demo_token):
    aliases = {e["alias"] for e in call(api, "GET", "/extensions", demo_token, status=200).json()["extensions"]}
    assert {"trunk", "trunk-details"} <= aliases
    assert call(api, "GET", "/extensions/trunk", demo_token, status=200).json()["extension"]["name"] == \
        "Trunk Extension"
    resources = call(api, "GET", "", demo_token, status=200).json()["resources"]
    assert {"name": "trunk", "collection": "trunks"} in [{k: r[k] for k in ("name", "collection")}
                                                         for r in resources]


# -- the resource ------------------------------------------------------------------------------
def test_trunk_crud(api, demo_token, port):
    parent, sub = port(), port()
    trunk = trunk_of(api, demo_token, parent, vlan(sub, 100), name=unique("trunk"), description="d")
    assert set(trunk) == {"id", "name", "description", "project_id", "tenant_id", "created_at", "updated_at",
                          "revision_number", "tags", "admin_state_up", "port_id", "status", "sub_ports"}
    assert trunk["port_id"] == parent["id"] and trunk["admin_state_up"] is True and trunk["status"] == "DOWN"
    assert trunk["sub_ports"] == [{"segmentation_type": "vlan", "port_id": sub["id"], "segmentation_id": 100}]
    assert trunk["project_id"] == trunk["tenant_id"] == parent["project_id"]
    path = f"/trunks/{trunk['id']}"
    assert call(api, "GET", path, demo_token, status=200).json()["trunk"] == trunk
    assert call(api, "GET", f"{path}?fields=id&fields=status", demo_token, status=200).json() == {
        "trunk": {"id": trunk["id"], "status": "DOWN"}}

    for query in (f"port_id={parent['id']}", f"name={trunk['name']}", "admin_state_up=true", "status=DOWN"):
        listed = call(api, "GET", f"/trunks?{query}", demo_token, status=200).json()["trunks"]
        assert [t["id"] for t in listed if t["id"] == trunk["id"]] == [trunk["id"]], query
    assert call(api, "GET", f"/trunks?status=ACTIVE&port_id={parent['id']}", demo_token,
                status=200).json()["trunks"] == []

    updated = call(api, "PUT", path, demo_token, {"trunk": {"name": "renamed", "description": "e",
                                                            "admin_state_up": False}}, 200).json()["trunk"]
    assert (updated["name"], updated["description"], updated["admin_state_up"]) == ("renamed", "e", False)
    assert updated["revision_number"] > trunk["revision_number"]
    for attrs in ({"port_id": sub["id"]}, {"sub_ports": []}):
        assert error(api, "PUT", path, demo_token, {"trunk": attrs}, 400)["message"] == \
            f"Cannot update read-only attribute {next(iter(attrs))}"
    assert "status" in error(api, "PUT", path, demo_token, {"trunk": {"status": "ACTIVE"}}, 400)["message"]
    call(api, "PUT", path, demo_token, {"trunk": {"admin_state_up": True}}, 200)

    call(api, "PUT", f"{path}/tags/blue", demo_token, status=201)
    assert call(api, "GET", "/trunks?tags=blue", demo_token, status=200).json()["trunks"][0]["id"] == trunk["id"]

    call(api, "DELETE", path, demo_token, status=204)
    assert error(api, "GET", path, demo_token, None, 404) == {
        "type": "TrunkNotFound", "message": f"Trunk {trunk['id']} could not be found.", "detail": ""}
    # The ports are free again: both may be deleted, or trunked anew.
    trunk_of(api, demo_token, sub, vlan(parent, 7))


def test_sort_and_page(api, demo_token, port):
    names = [unique("page") for _ in range(3)]
    ids = {trunk_of(api, demo_token, port(), name=name)["id"] for name in names}
    listed = call(api, "GET", "/trunks?sort_key=name&sort_dir=desc", demo_token, status=200).json()["trunks"]
    assert [t["name"] for t in listed if t["id"] in ids] == sorted(names, reverse=True)
    first = call(api, "GET", "/trunks?limit=1&sort_key=id&sort_dir=asc", demo_token, status=200).json()
    assert len(first["trunks"]) == 1 and first["trunks_links"][0]["rel"] == "next"
    after = call(api, "GET", f"/trunks?limit=1&sort_key=id&sort_dir=asc&marker={first['trunks'][0]['id']}",
                 demo_token, status=200).json()["trunks"]
    assert after[0]["id"] > first["trunks"][0]["id"]
    assert error(api, "GET", "/trunks?sort_key=sub_ports&sort_dir=asc", demo_token, None, 400)["type"] == \
        "HTTPBadRequest"


def test_subports_added_listed_removed(api, demo_token, port):
    parent, first, second = port(), port(), port()
    trunk = trunk_of(api, demo_token, parent)
    path = f"/trunks/{trunk['id']}"
    added = call(api, "PUT", f"{path}/add_subports", demo_token,
                 {"sub_ports": [vlan(second, 20), {**vlan(first, "10")}]}, 200).json()
    assert added["id"] == trunk["id"] and added["revision_number"] > trunk["revision_number"]  # unwrapped
    assert added["sub_ports"] == [vlan(first, 10), vlan(second, 20)]  # by segmentation; "10" is VLAN 10
    listed = call(api, "GET", f"{path}/get_subports", demo_token, status=200).json()
    assert listed == {"sub_ports": added["sub_ports"]}

    details = call(api, "GET", f"/ports/{parent['id']}", demo_token, status=200).json()["port"]["trunk_details"]
    assert details["trunk_id"] == trunk["id"]
    assert {s["port_id"]: s["mac_address"] for s in details["sub_ports"]} == {
        first["id"]: first["mac_address"], second["id"]: second["mac_address"]}
    assert {"segmentation_id": 10, "segmentation_type": "vlan"}.items() <= next(
        s for s in details["sub_ports"] if s["port_id"] == first["id"]).items()
    listed_ports = call(api, "GET", f"/ports?id={parent['id']}&id={first['id']}", demo_token, status=200).json()
    by_id = {p["id"]: p for p in listed_ports["ports"]}
    assert by_id[parent["id"]]["trunk_details"] == details and "trunk_details" not in by_id[first["id"]]

    removed = call(api, "PUT", f"{path}/remove_subports", demo_token, {"sub_ports": [{"port_id": first["id"]}]},
                   200).json()
    assert removed["sub_ports"] == [vlan(second, 20)] and removed["revision_number"] > added["revision_number"]
    assert error(api, "PUT", f"{path}/remove_subports", demo_token, {"sub_ports": [{"port_id": first["id"]}]},
                 404) == {"type": "SubPortNotFound", "detail": "",
                          "message": f"SubPort {first['id']} on trunk {trunk['id']} could not be found."}
    call(api, "DELETE", f"/ports/{first['id']}", demo_token, status=204)  # no longer a subport


# -- Neutron's conflicts -------------------------------------------------------------------------
def test_a_port_is_in_one_trunk_at_most(api, demo_token, port):
    parent, sub, other_parent = port(), port(), port()
    trunk = trunk_of(api, demo_token, parent, vlan(sub, 5))
    cases = [
        ({"port_id": parent["id"]}, "ParentPortInUse",
         f"Port {parent['id']} is currently in use and is not eligible for use as a parent port."),
        ({"port_id": sub["id"]}, "TrunkPortInUse", f"Port {sub['id']} is in use by another trunk."),
        ({"port_id": other_parent["id"], "sub_ports": [vlan(sub, 6)]}, "TrunkPortInUse", None),
        ({"port_id": other_parent["id"], "sub_ports": [vlan(parent, 6)]}, "ParentPortInUse", None),
        ({"port_id": other_parent["id"], "sub_ports": [vlan(other_parent, 6)]}, "ParentPortInUse", None),
    ]
    for body, kind, message in cases:
        refused = create(api, demo_token, "trunks", "trunk", body, 409)
        assert refused["type"] == kind, body
        assert message is None or refused["message"] == message
    path = f"/trunks/{trunk['id']}/add_subports"
    assert error(api, "PUT", path, demo_token, {"sub_ports": [vlan(port(), 5)]}, 409) == {
        "type": "DuplicateSubPort", "detail": "",
        "message": f"segmentation_type vlan and segmentation_id 5 already in use on trunk {trunk['id']}."}
    assert error(api, "PUT", path, demo_token, {"sub_ports": [vlan(sub, 9)]}, 409)["type"] == "TrunkPortInUse"
    # A port with a device is not a subport.
    busy = port(device_id=str(uuid.uuid4()), device_owner="compute:nova")
    assert error(api, "PUT", path, demo_token, {"sub_ports": [vlan(busy, 9)]}, 409)["type"] == "PortInUse"
    # Nothing of a refused request stays.
    assert call(api, "GET", f"/trunks/{trunk['id']}", demo_token, status=200).json()["trunk"]["sub_ports"] == [
        vlan(sub, 5)]


def test_trunk_ports_cannot_be_deleted(api, demo_token, port):
    parent, sub = port(), port()
    trunk = trunk_of(api, demo_token, parent, vlan(sub, 30))
    assert error(api, "DELETE", f"/ports/{parent['id']}", demo_token, None, 409) == {
        "type": "PortInUseAsTrunkParent", "detail": "",
        "message": f"Port {parent['id']} is currently a parent port for trunk {trunk['id']}."}
    assert error(api, "DELETE", f"/ports/{sub['id']}", demo_token, None, 409) == {
        "type": "PortInUseAsSubPort", "detail": "",
        "message": f"Port {sub['id']} is currently a subport for trunk {trunk['id']}."}


def test_disabled_trunk_is_locked(api, demo_token, port):
    parent, sub = port(), port()
    trunk = trunk_of(api, demo_token, parent, vlan(sub, 40), admin_state_up=False)
    path = f"/trunks/{trunk['id']}"
    disabled = {"type": "TrunkDisabled", "message": f"Trunk {trunk['id']} is currently disabled.", "detail": ""}
    assert error(api, "PUT", f"{path}/add_subports", demo_token, {"sub_ports": [vlan(port(), 41)]}, 409) == disabled
    assert error(api, "PUT", f"{path}/remove_subports", demo_token, {"sub_ports": [{"port_id": sub["id"]}]},
                 409) == disabled
    assert error(api, "DELETE", path, demo_token, None, 409) == disabled
    call(api, "PUT", path, demo_token, {"trunk": {"admin_state_up": True}}, 200)
    call(api, "DELETE", path, demo_token, status=204)


def test_bound_parent(api, demo_token, admin_token, port):
    """The parent's binding: a bound port is not trunked; once a trunk's parent is bound
    to a running instance the trunk is ACTIVE and cannot go (Neutron's OVS driver)."""
    bound = port()
    call(api, "PUT", f"/ports/{bound['id']}", admin_token, {"port": {"binding:host_id": "compute-1"}}, 200)
    assert create(api, demo_token, "trunks", "trunk", {"port_id": bound["id"]}, 409)["type"] == "ParentPortInUse"

    parent = port()
    trunk = trunk_of(api, demo_token, parent)
    call(api, "PUT", f"/ports/{parent['id']}", admin_token,
         {"port": {"binding:host_id": "compute-1", "device_id": str(uuid.uuid4()), "device_owner": "compute:nova"}},
         200)
    path = f"/trunks/{trunk['id']}"
    assert call(api, "GET", path, demo_token, status=200).json()["trunk"]["status"] == "ACTIVE"
    listed = call(api, "GET", f"/trunks?status=ACTIVE&port_id={parent['id']}", demo_token, status=200).json()
    assert [t["id"] for t in listed["trunks"]] == [trunk["id"]]
    assert error(api, "DELETE", path, demo_token, None, 409) == {
        "type": "TrunkInUse", "message": f"Trunk {trunk['id']} is currently in use.", "detail": ""}
    call(api, "PUT", f"/ports/{parent['id']}", admin_token,
         {"port": {"binding:host_id": "", "device_id": "", "device_owner": ""}}, 200)
    assert call(api, "GET", path, demo_token, status=200).json()["trunk"]["status"] == "DOWN"
    call(api, "DELETE", path, demo_token, status=204)


def test_subport_mtu_and_inherit(api, demo_token, admin_token, port):
    """A subport's network MTU may not pass the parent's; ``inherit`` takes the subport
    network's VLAN (and refuses a network that is no VLAN)."""
    project_id = port()["project_id"]
    # A VLAN network of the physical MTU, 1500, over the parent's VXLAN network (1450).
    wide = create(api, admin_token, "networks", "network", {"name": unique("wide"), "mtu": 1500,
                                                            "provider:network_type": "vlan",
                                                            "project_id": project_id})
    wide_port = create(api, demo_token, "ports", "port", {"network_id": wide["id"]})
    parent = port()
    refused = create(api, demo_token, "trunks", "trunk", {"port_id": parent["id"], "sub_ports": [vlan(wide_port, 3)]},
                     409)
    assert refused["type"] == "SubPortMtuGreaterThanTrunkPortMtu"
    assert refused["message"].startswith(f"MTU 1500 of subport {wide_port['id']} cannot be greater than MTU ")

    vlan_net = create(api, admin_token, "networks", "network", {
        "name": unique("vlan"), "provider:network_type": "vlan", "mtu": 1400, "project_id": project_id})
    seg_id = call(api, "GET", f"/networks/{vlan_net['id']}", admin_token,
                  status=200).json()["network"]["provider:segmentation_id"]
    on_vlan = create(api, demo_token, "ports", "port", {"network_id": vlan_net["id"]})
    trunk = trunk_of(api, demo_token, parent, {"port_id": on_vlan["id"], "segmentation_type": "inherit"})
    assert trunk["sub_ports"] == [vlan(on_vlan, seg_id)]
    refused = error(api, "PUT", f"/trunks/{trunk['id']}/add_subports", demo_token,
                    {"sub_ports": [{"port_id": port()["id"], "segmentation_type": "inherit"}]}, 400)
    assert refused["message"] == "Invalid input for operation: Unknown segmentation_type 'vxlan'."


def _race(calls) -> list:
    """Run the calls at once; their responses' (status, NeutronError type)."""
    results: list = []

    def run(call_):
        r = call_()
        results.append((r.status_code, r.json().get("NeutronError", {}).get("type") if r.status_code >= 400
                        else None))
    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(results, key=lambda r: r[0])


def test_racing_claims_are_decided_once(api, demo_token, port):
    """Trunks racing for one parent, subports racing for one VLAN: one wins, the others
    get Neutron's 409 (no lock: the claim is a row keyed by the port, re-run on a
    conflict)."""
    parent = port()
    bodies = [{"trunk": {"port_id": parent["id"], "sub_ports": [vlan(port(), 10)]}} for _ in range(4)]
    results = _race([lambda b=b: call(api, "POST", "/trunks", demo_token, b) for b in bodies])
    assert results == [(201, None)] + [(409, "ParentPortInUse")] * 3
    trunk = call(api, "GET", f"/trunks?port_id={parent['id']}", demo_token, status=200).json()["trunks"][0]
    path = f"/trunks/{trunk['id']}/add_subports"
    results = _race([lambda p=p: call(api, "PUT", path, demo_token, {"sub_ports": [vlan(p, 20)]})
                     for p in (port(), port(), port())])
    assert results == [(200, None)] + [(409, "DuplicateSubPort")] * 2


# -- bad input ----------------------------------------------------------------------------------
def test_bad_input_is_a_clear_400(api, demo_token, port):
    parent, sub = port(), port()
    trunk = trunk_of(api, demo_token, parent)
    path = f"/trunks/{trunk['id']}/add_subports"
    operation = "Invalid input for operation: "
    for subport, reason in [
        (vlan(sub, 0), "Segmentation ID '0' is not in range"),
        (vlan(sub, 4095), "Segmentation ID '4095' is not in range"),
        (vlan(sub, 2 ** 40), f"Segmentation ID '{2 ** 40}' is not in range"),
        ({**vlan(sub, 5), "segmentation_type": "vxlan"}, "Unknown segmentation_type 'vxlan'"),
        ({**vlan(sub, 5), "segmentation_type": ["vlan"]}, "Unknown segmentation_type '['vlan']'"),
        ({**vlan(sub, 5), "segmentation_id": "five"}, "Invalid subport details: segmentation_id 'five' is not an "
                                                      "integer"),
        ({"port_id": sub["id"]}, f"Invalid subport details '{{'port_id': '{sub['id']}'}}': missing segmentation "
                                 "information. Must specify both segmentation_id and segmentation_type"),
        ({"port_id": sub["id"], "segmentation_id": 5}, None),
        ({"segmentation_type": "vlan", "segmentation_id": 5}, "A valid port UUID must be specified"),
        (vlan({"id": "not-a-uuid"}, 5), "Invalid UUID for subport: 'not-a-uuid'"),
        (vlan({"id": 12}, 5), "Invalid UUID for subport: '12'"),
        ("port", "Invalid data format for subport: 'port' is not a dict"),
    ]:
        refused = error(api, "PUT", path, demo_token, {"sub_ports": [subport]}, 400)
        assert refused["type"] == "InvalidInput", subport
        assert reason is None or refused["message"] == operation + reason + "."
    for body, reason in [
        ({"sub_ports": [vlan(sub, 5), vlan(port(), 5)]}, "Segmentation ID '5' for '"),
        ({"sub_ports": [vlan(sub, 5), vlan(sub, 6)]}, f"Non unique UUID for subport: '{sub['id']}'"),
        ({"sub_ports": {"port_id": sub["id"]}}, "Invalid data format for subports"),
    ]:
        assert error(api, "PUT", path, demo_token, body, 400)["message"].startswith(operation + reason)
    for body in ({}, {"sub_ports": None, "x": 1}, [vlan(sub, 5)], None):
        assert call(api, "PUT", path, demo_token, body, 400).json()["NeutronError"]["type"] in (
            "HTTPBadRequest", "InvalidInput")
    missing = str(uuid.uuid4())
    assert error(api, "PUT", path, demo_token, {"sub_ports": [vlan({"id": missing}, 5)]}, 404)["type"] == \
        "PortNotFound"
    assert error(api, "PUT", f"/trunks/{missing}/add_subports", demo_token, {"sub_ports": []}, 404)["type"] == \
        "TrunkNotFound"
    assert error(api, "GET", f"/trunks/{missing}/get_subports", demo_token, None, 404)["type"] == "TrunkNotFound"

    free = port()
    for body, reason in [
        ({"port_id": "nope"}, "Invalid input for port_id. Reason: 'nope' is not a valid UUID."),
        ({"port_id": free["id"], "sub_ports": "x"},
         "Invalid input for sub_ports. Reason: Invalid data format for subports: 'x' is not a list."),
        ({"port_id": free["id"], "sub_ports": [vlan(sub, 4095)]}, None),
        ({}, None),
        ({"port_id": free["id"], "status": "ACTIVE"}, None),
        ({"port_id": free["id"], "segmentation_id": 5}, "Unrecognized attribute(s) 'segmentation_id'"),
        ({"port_id": free["id"], "admin_state_up": "maybe"}, None),
    ]:
        refused = create(api, demo_token, "trunks", "trunk", body, 400)
        assert reason is None or refused["message"] == reason, refused
    assert create(api, demo_token, "trunks", "trunk", {"port_id": missing}, 404)["type"] == "PortNotFound"
    # None of it left a trunk behind on the free port.
    assert call(api, "GET", f"/trunks?port_id={free['id']}", demo_token, status=200).json()["trunks"] == []


# -- bindings and status: the service's and the agent's ---------------------------------------------
def test_subports_follow_the_trunk_and_its_parents_binding(api, demo_token, admin_token, port):
    """Without a datapath agent (noop) the service reports for it: subports are the
    trunk's (``trunk:subport``), bound where the parent is and ACTIVE while it is."""
    parent, sub, late = port(), port(), port()
    trunk = trunk_of(api, demo_token, parent, vlan(sub, 11))
    path = f"/trunks/{trunk['id']}"

    def sub_port(p):
        found = call(api, "GET", f"/ports/{p['id']}", admin_token, status=200).json()["port"]
        return found["device_owner"], found["device_id"], found["binding:host_id"], found["status"]
    assert sub_port(sub) == ("trunk:subport", trunk["id"], "", "DOWN")
    call(api, "PUT", f"/ports/{parent['id']}", admin_token,
         {"port": {"binding:host_id": "compute-9", "device_id": str(uuid.uuid4()), "device_owner": "compute:nova"}},
         200)
    assert sub_port(sub) == ("trunk:subport", trunk["id"], "compute-9", "ACTIVE")
    call(api, "PUT", f"{path}/add_subports", demo_token, {"sub_ports": [vlan(late, 12)]}, 200)
    assert sub_port(late) == ("trunk:subport", trunk["id"], "compute-9", "ACTIVE")
    assert call(api, "GET", path, demo_token, status=200).json()["trunk"]["status"] == "ACTIVE"
    call(api, "PUT", f"/ports/{parent['id']}", admin_token, {"port": {"binding:host_id": "compute-8"}}, 200)
    assert sub_port(sub)[2:] == ("compute-8", "ACTIVE")  # moved with the parent (a migration)
    call(api, "PUT", f"{path}/remove_subports", demo_token, {"sub_ports": [{"port_id": late["id"]}]}, 200)
    assert sub_port(late) == ("", "", "", "DOWN")
    call(api, "PUT", f"/ports/{parent['id']}", admin_token,
         {"port": {"binding:host_id": "", "device_id": "", "device_owner": ""}}, 200)
    assert sub_port(sub) == ("trunk:subport", trunk["id"], "", "DOWN")
    assert call(api, "GET", path, demo_token, status=200).json()["trunk"]["status"] == "DOWN"
    call(api, "DELETE", path, demo_token, status=204)
    assert sub_port(sub) == ("", "", "", "DOWN")


def test_the_agent_reports_what_it_wired(api, demo_token, admin_token, port):
    """With the Linux datapath the agent reports (``NetworkManager.trunk_wired``, what its
    driver calls after wiring): DOWN after every change and once the parent moves, BUILD
    while it binds the subports, then ACTIVE, DEGRADED or ERROR with each subport's
    status; a trunk in ERROR takes no subport until one is removed.  The datapath learns
    each change from the parent's ``port_updated`` (its ``trunk_details``)."""
    import dataclasses

    from pocketstack.common.context import RequestContext
    from pocketstack.network.drivers.noop import NoopDriver
    from pocketstack.network.manager import NetworkManager

    service = api.cloud.service("network").manager
    datapath = NoopDriver()
    agent_side = NetworkManager(dataclasses.replace(service.env, driver=datapath, datapath="linux"))
    admin = RequestContext.admin()
    parent, first, second = port(), port(), port()
    trunk = trunk_of(api, demo_token, parent, vlan(first, 21))
    path = f"/trunks/{trunk['id']}"

    def status() -> str:
        return call(api, "GET", path, demo_token, status=200).json()["trunk"]["status"]

    def port_status(p) -> tuple[str, str]:
        found = call(api, "GET", f"/ports/{p['id']}", admin_token, status=200).json()["port"]
        return found["binding:host_id"], found["status"]
    agent_side.update(admin, "ports", parent["id"], {"binding:host_id": "net-1", "device_id": str(uuid.uuid4()),
                                                     "device_owner": "compute:nova"})
    assert (status(), port_status(first)) == ("DOWN", ("net-1", "DOWN"))  # bound, not wired yet
    agent_side.trunk_wired(trunk["id"], "BUILD", {})
    assert status() == "BUILD"
    agent_side.trunk_wired(trunk["id"], "ACTIVE", {first["id"]: "ACTIVE"})
    assert (status(), port_status(first)) == ("ACTIVE", ("net-1", "ACTIVE"))

    agent_side.change_subports(admin, trunk["id"], [vlan(second, 22)], add=True)
    assert (status(), port_status(second)) == ("DOWN", ("net-1", "DOWN"))
    told = datapath.of("port_updated", parent["id"])[-1]["trunk_details"]
    assert [(s["port_id"], s["segmentation_id"]) for s in told["sub_ports"]] == [(first["id"], 21), (second["id"], 22)]
    agent_side.trunk_wired(trunk["id"], "DEGRADED", {first["id"]: "ACTIVE", second["id"]: "DOWN"})
    assert (status(), port_status(first), port_status(second)) == ("DEGRADED", ("net-1", "ACTIVE"),
                                                                   ("net-1", "DOWN"))
    agent_side.trunk_wired(trunk["id"], "ERROR", {first["id"]: "DOWN", second["id"]: "DOWN"})
    assert error(api, "PUT", f"{path}/add_subports", demo_token, {"sub_ports": [vlan(port(), 23)]}, 409) == {
        "type": "TrunkInErrorState", "detail": "",
        "message": f"Trunk {trunk['id']} is in error state. Attempt to resolve the error condition before "
                   "proceeding."}
    agent_side.change_subports(admin, trunk["id"], [{"port_id": second["id"]}], add=False)
    assert (status(), port_status(second)) == ("DOWN", ("", "DOWN"))
    agent_side.trunk_wired(trunk["id"], "SOMETHING", {})  # not a status: ignored
    assert status() == "DOWN"
    agent_side.update(admin, "ports", parent["id"], {"binding:host_id": "net-2"})  # moved: wired anew there
    agent_side.trunk_wired(trunk["id"], "ACTIVE", {first["id"]: "ACTIVE"})
    assert (status(), port_status(first)) == ("ACTIVE", ("net-2", "ACTIVE"))
    agent_side.update(admin, "ports", parent["id"], {"binding:host_id": "", "device_id": "", "device_owner": ""})
    assert (status(), port_status(first)) == ("DOWN", ("", "DOWN"))
    call(api, "DELETE", path, demo_token, status=204)
    agent_side.trunk_wired(trunk["id"], "ACTIVE", {})  # a trunk gone meanwhile: nothing to do
