"""Trunks in the Linux datapath: which VLAN devices the reconcile wants, which it deletes,
what each trunk's status is, and how the reports reach the service (pure)."""

from __future__ import annotations

from pocketstack.network.drivers import trunk_vlans
from pocketstack.network.drivers.linux import LinuxDriver

tap = LinuxDriver.tap_name
PARENT, OTHER_PARENT = "aaaaaaaa-1111-parent", "bbbbbbbb-2222-parent"
SUB, SUB2, SUB3 = "cccccccc-3333-sub", "dddddddd-4444-sub", "eeeeeeee-5555-sub"


def parent(port_id: str, trunk_id: str, *subports: tuple[str, int], kind: str = "vlan") -> dict:
    return {"id": port_id, "network_id": "n", "trunk_details": {"trunk_id": trunk_id, "sub_ports": [
        {"port_id": sub, "segmentation_type": kind, "segmentation_id": vid, "mac_address": "fa:16:3e:00:00:01"}
        for sub, vid in subports]}}


def vlan_link(parent_tap: str, vid: int, master: str | None = None) -> dict:
    link = {"link": parent_tap, "linkinfo": {"info_kind": "vlan", "info_data": {"protocol": "802.1Q", "id": vid}},
            "flags": ["UP"]}
    return {**link, "master": master} if master else link


def test_subports_get_a_vlan_device_on_the_parents_tap_where_that_tap_is():
    ports = [parent(PARENT, "t1", (SUB, 100), (SUB2, 200)), parent(OTHER_PARENT, "t2", (SUB3, 300)),
             {"id": SUB, "network_id": "s"}]
    wanted = trunk_vlans.wanted(ports, tap, [tap(PARENT), "br-x"])  # t2's parent is not plugged here
    assert wanted == {tap(SUB): trunk_vlans.Subport("t1", SUB, tap(SUB), tap(PARENT), 100),
                      tap(SUB2): trunk_vlans.Subport("t1", SUB2, tap(SUB2), tap(PARENT), 200)}
    # Another segmentation type is none of this driver's (the API takes vlan only).
    assert trunk_vlans.wanted([parent(PARENT, "t1", (SUB, 5), kind="vxlan")], tap, [tap(PARENT)]) == {}
    assert trunk_vlans.trunks_here(ports, tap, [tap(PARENT), tap(OTHER_PARENT)]) == {"t1": sorted([SUB, SUB2]),
                                                                                   "t2": [SUB3]}


def test_stale_vlan_devices_go_and_wrong_ones_are_made_again():
    wanted = trunk_vlans.wanted([parent(PARENT, "t1", (SUB, 100), (SUB2, 200))], tap, [tap(PARENT)])
    links = {tap(PARENT): {"linkinfo": {"info_kind": "veth"}},
             tap(SUB): vlan_link(tap(PARENT), 100),  # right: kept
             tap(SUB2): vlan_link(tap(PARENT), 201),  # another VLAN: made again
             tap(SUB3): vlan_link(tap(PARENT), 300),  # removed from the trunk
             tap(OTHER_PARENT): {"linkinfo": {"info_kind": "tun"}},  # a guest's tap: not ours to judge here
             "vlan-x": vlan_link("eth0", 5)}  # not a port device
    assert trunk_vlans.stale(links, wanted) == sorted([tap(SUB2), tap(SUB3)])
    assert trunk_vlans.matches(links[tap(SUB)], wanted[tap(SUB)])
    assert not trunk_vlans.matches(vlan_link(tap(OTHER_PARENT), 100), wanted[tap(SUB)])  # another parent


def test_a_trunks_status_is_its_subports():
    active, down = trunk_vlans.ACTIVE, trunk_vlans.DOWN
    assert trunk_vlans.outcome({}) == "ACTIVE"  # nothing to wire: the parent alone
    assert trunk_vlans.outcome({SUB: active, SUB2: active}) == "ACTIVE"
    assert trunk_vlans.outcome({SUB: active, SUB2: down}) == "DEGRADED"
    assert trunk_vlans.outcome({SUB: down}) == "ERROR"
    wanted = trunk_vlans.wanted([parent(PARENT, "t1", (SUB, 100), (SUB2, 200), (SUB3, 300))], tap, [tap(PARENT)])
    links = {tap(SUB): vlan_link(tap(PARENT), 100, master="br-s"),
             tap(SUB2): vlan_link(tap(PARENT), 200)}  # not on its bridge (its network unknown here)
    bridges = {SUB: "br-s", SUB2: None, SUB3: "br-s"}
    assert trunk_vlans.statuses(links, wanted, bridges.get) == {"t1": {SUB: active, SUB2: down, SUB3: down}}


def test_reports_go_once_per_change_and_again_after_a_failure():
    sent: list[tuple] = []
    failing = {"on": False}

    def reporter(trunk_id, status, subports):
        if failing["on"]:
            raise RuntimeError("database away")
        sent.append((trunk_id, status, subports))
    reports = trunk_vlans.Reports()
    reports.observe({"t1": [SUB]}, {"t1": {SUB: "ACTIVE"}})
    reports.send()  # nobody listens: dropped
    assert reports.queue == [] and sent == []
    reports.reporter = reporter
    reports.reported.clear()
    reports.observe({"t1": [SUB]}, {"t1": {SUB: "ACTIVE"}})
    reports.send()
    assert sent == [("t1", "BUILD", {}), ("t1", "ACTIVE", {SUB: "ACTIVE"})]
    reports.observe({"t1": [SUB]}, {"t1": {SUB: "ACTIVE"}})  # unchanged: nothing
    reports.send()
    assert len(sent) == 2
    failing["on"] = True
    reports.observe({"t1": [SUB, SUB2]}, {"t1": {SUB: "ACTIVE"}})  # SUB2 not wired: DEGRADED, lost
    reports.send()
    failing["on"] = False
    reports.observe({"t1": [SUB, SUB2]}, {"t1": {SUB: "ACTIVE"}})  # so it goes again
    reports.send()
    assert sent[2:] == [("t1", "BUILD", {}), ("t1", "DEGRADED", {SUB: "ACTIVE", SUB2: "DOWN"})]
    reports.observe({}, {})  # the parent's tap went: forgotten, reported anew when it is back
    assert reports.reported == {}


def test_a_report_made_while_sending_is_sent_by_the_outer_loop():
    """The reporter's changes come back as events whose reconcile observes again: that
    nested send returns at once, and the outer loop sends what it queued, in order."""
    reports = trunk_vlans.Reports()
    sent: list[str] = []

    def reporter(trunk_id, status, subports):
        sent.append(f"{trunk_id} {status}")
        if trunk_id == "t1" and status == "ACTIVE":
            reports.observe({"t1": [], "t2": []}, {})
            reports.send()
    reports.reporter = reporter
    reports.observe({"t1": []}, {})
    reports.send()
    assert sent == ["t1 BUILD", "t1 ACTIVE", "t2 BUILD", "t2 ACTIVE"] and not reports.sending
