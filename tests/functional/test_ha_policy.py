"""Instance HA's recovery policy and network fencing (issue 15).

Which servers of a failed host are evacuated: the server's tag or metadata, then its
image's ``ha_enabled`` property, then its flavor's ``ha:enabled`` extra spec, then the
cloud's ``ha_recovery_mode`` -- read through the compute contract from real servers
(flavor embedded at boot, image properties), and acted on by a real recovery on fake
hosts.  Network fencing: the fenced host leaves the other hosts' VXLAN peers, its
servers' ports are unbound and DOWN until bound again where they are evacuated to
(a Linux-datapath network manager over the shared database); the noop datapath records
that it had nothing to cut.
"""

from __future__ import annotations

import dataclasses

import pytest
from starlette.datastructures import QueryParams
from test_ha import SRV_HOST, TAG, boot_on_first, evacuations, instance_ha, settle, site, vmoves  # noqa: F401 - site: a fixture

from pocketstack.common.config import load
from pocketstack.common.context import RequestContext
from pocketstack.compute.contract import HostServer
from pocketstack.ha.recovery_policy import check, decide
from pocketstack.network import agent_records
from pocketstack.network.context import Env
from pocketstack.network.drivers import vxlan
from pocketstack.network.drivers.base import DHCP_AGENT, L3_AGENT
from pocketstack.network.drivers.noop import NoopDriver
from pocketstack.network.manager import NetworkManager
from pocketstack.network.segments import SegmentConfig
from pocketstack.network.service import binding

from compute_fixtures import flavor, image  # noqa: F401 - fixtures
from conftest import unique
from test_compute_helpers import call, make_flavor, make_image, wait

ON, OFF = "true", "False"


def server(vm_state: str = "active", tags=(), metadata=None, image=None, flavor_spec=None) -> HostServer:
    return HostServer(id=unique("srv"), project_id="p", vm_state=vm_state, task_state=None, tags=tuple(tags),
                      metadata=tuple((metadata or {}).items()),
                      image_properties=(("ha_enabled", image),) if image is not None else (),
                      flavor_extra_specs=(("ha:enabled", flavor_spec),) if flavor_spec is not None else ())


# Each source on and off, over the ones below it: (server, evacuated in mode all, in mode tagged).
TABLE = [
    (server(), True, False),
    (server(flavor_spec=ON), True, True),
    (server(flavor_spec=OFF), False, False),
    (server(image=ON, flavor_spec=OFF), True, True),
    (server(image=OFF, flavor_spec=ON), False, False),
    (server(metadata={"HA_Enabled": ON}, image=OFF, flavor_spec=OFF), True, True),
    (server(metadata={"HA_Enabled": OFF}, image=ON, flavor_spec=ON), False, False),
    (server(tags=[TAG], image=OFF, flavor_spec=OFF), True, True),
    (server(metadata={"HA_Enabled": "yes"}), True, True),  # Masakari's bool_from_string
    (server(image="maybe"), False, False),  # not a true string: false, as Masakari reads it
]


@pytest.mark.parametrize(("srv", "in_all", "in_tagged"), TABLE)
def test_the_first_source_that_says_so_decides(api, srv, in_all, in_tagged):
    for mode, expected in (("all", in_all), ("tagged", in_tagged)):
        settings = dataclasses.replace(api.cloud.settings, ha_recovery_mode=mode)
        assert decide(srv, settings).recover is expected, (mode, decide(srv, settings))


def test_masakari_settings(api):
    base = api.cloud.settings
    renamed = dataclasses.replace(base, ha_recovery_mode="tagged", ha_enabled_instance_metadata_key="ha-enabled")
    assert decide(server(metadata={"ha-enabled": ON}), renamed).recover
    assert not decide(server(metadata={"HA_Enabled": ON}), renamed).recover  # not the key any more
    in_error = server(vm_state="error", tags=[TAG])
    assert decide(in_error, base).recover  # evacuated, as Masakari does by default
    ignoring = dataclasses.replace(base, ha_ignore_instances_in_error_state=True)
    decision = decide(in_error, ignoring)
    assert not decision.recover and "ERROR" in decision.source
    for wrong in ({"ha_recovery_mode": "some"}, {"ha_enabled_instance_metadata_key": " "}):
        with pytest.raises(ValueError, match=next(iter(wrong))):
            check(dataclasses.replace(base, **wrong))


def spec_flavor(api, admin_token, value: str) -> dict:
    made = make_flavor(api, admin_token, vcpus=1, ram=64, disk=1)
    r = call(api, "POST", f"/flavors/{made['id']}/os-extra_specs", admin_token,
             json={"extra_specs": {"ha:enabled": value}})
    assert r.status_code == 200, r.text
    return made


def test_tagged_mode_follows_image_and_flavor_and_records_the_network_step(api, admin_token, site, image, flavor):
    flavor_on = spec_flavor(api, admin_token, ON)
    image_on, image_off = (make_image(api, admin_token, ha_enabled=v) for v in (ON, OFF))
    cases = {"plain": (image, flavor, {}), "flavor": (image, flavor_on, {}),
             "image-over-flavor": (image_off, flavor_on, {}), "image": (image_on, flavor, {}),
             "server-over-image": (image_on, flavor_on, {"HA_Enabled": OFF})}
    servers = {name: boot_on_first(site, admin_token, img, flv, 1, metadata=[meta])[1][0]
               for name, (img, flv, meta) in cases.items()}
    listed = {s.id: s for s in site.compute.host_servers(site.failing)}
    assert dict(listed[servers["flavor"]].flavor_extra_specs) == {"ha:enabled": ON}  # through the contract
    assert dict(listed[servers["image"]].image_properties)["ha_enabled"] == ON
    ha = instance_ha(api, ha_recovery_mode="tagged")
    site.crash(site.failing)
    notification = settle(ha, api, admin_token, site.nodes[0])
    assert notification["status"] == "finished"
    moves = vmoves(api, admin_token, notification)
    assert {name: moves[sid]["status"] for name, sid in servers.items()} == {
        "plain": "ignored", "flavor": "succeeded", "image-over-flavor": "ignored", "image": "succeeded",
        "server-over-image": "ignored"}
    assert "image property ha_enabled=False" in moves[servers["image-over-flavor"]]["message"]
    assert "server metadata HA_Enabled=False" in moves[servers["server-over-image"]]["message"]
    tasks = {t["name"]: t for t in notification["recovery_workflow_details"]}
    fence = [d["message"] for d in tasks["FenceHostTask"]["progress_details"]]
    assert tasks["FenceHostTask"]["state"] == "SUCCESS" and "powered off" in fence[-2]
    assert fence[-1] == f"noop datapath: no network to cut host {site.failing} off (nothing done)"
    prepare = tasks["PrepareHAEnabledInstancesTask"]["progress_details"][-1]["message"]
    assert prepare.startswith("2 of 5 server(s) to evacuate") and "flavor extra spec ha:enabled=true: 1" in prepare


def test_all_mode_with_flavor_opt_out_and_servers_in_error_left_alone(api, admin_token, site, image, flavor):
    flavor_off = spec_flavor(api, admin_token, OFF)
    _, (plain, opted_out, broken) = boot_on_first(site, admin_token, image, flavor, 3)
    # The second boots again on the opted-out flavor; the third is put in ERROR by an admin.
    call(api, "DELETE", f"/servers/{opted_out}", admin_token)
    opted_out = boot_on_first(site, admin_token, image, flavor_off, 1)[1][0]
    r = call(api, "POST", f"/servers/{broken}/action", admin_token, json={"os-resetState": {"state": "error"}})
    assert r.status_code == 202, r.text
    ha = instance_ha(api, ha_recovery_mode="all", ha_ignore_instances_in_error_state=True)
    site.crash(site.failing)
    moves = vmoves(api, admin_token, settle(ha, api, admin_token, site.nodes[0]))
    assert [moves[s]["status"] for s in (plain, opted_out, broken)] == ["succeeded", "ignored", "ignored"]
    assert call(api, "GET", f"/servers/{plain}", admin_token).json()["server"][SRV_HOST] == site.spare
    left = wait(api, admin_token, opted_out)
    assert left["status"] == "ERROR" and "ha:enabled=False" in left["fault"]["message"]
    kept = call(api, "GET", f"/servers/{broken}", admin_token).json()["server"]
    assert kept["status"] == "ERROR" and evacuations(api, admin_token, broken) == []


# -- network fencing, Linux datapath -------------------------------------------------------
@pytest.fixture
def three_hosts(cloud):
    """Three Linux datapath hosts with their VXLAN addresses, as their agents report them."""
    hosts = {unique("fence-a"): "192.0.2.21", unique("fence-b"): "192.0.2.22", unique("fence-c"): "192.0.2.23"}
    for host, address in hosts.items():
        agent_records.register(cloud.db, host, {"datapath_driver": "linux", "tunneling_ip": address,
                                                "tunnel_types": ["vxlan"]}, serves=(DHCP_AGENT, L3_AGENT))
    yield hosts
    directory = cloud.service("network").agents
    for agent in directory.list():
        if agent["host"] in hosts:
            directory.delete(agent["id"])


def manager_on(cloud, driver: NoopDriver, datapath: str = "linux") -> NetworkManager:
    settings = load(environ={"POCKETSTACK_NETWORK_DATAPATH": datapath, "POCKETSTACK_NETWORK_AGENT_HOST": "fallback"})
    return NetworkManager(Env(db=cloud.db, driver=driver, segments=SegmentConfig.from_settings(settings),
                              **binding(settings)))


def test_a_fenced_host_leaves_the_vxlan_peers_and_its_ports_are_unbound(cloud, three_hosts):
    (a, b, c), driver = list(three_hosts), NoopDriver()
    m = manager_on(cloud, driver)
    admin = RequestContext(user_id=unique("user"), project_id=unique("project"), roles=["admin", "member", "reader"])
    net = m.create(admin, "networks", {"name": unique("n"), "provider:network_type": "vxlan"})
    m.create(admin, "subnets", {"network_id": net["id"], "ip_version": 4, "cidr": "10.62.1.0/24"})
    guest = {host: m.allocate_for_instance(admin, unique("vm"), host, [{"network_id": net["id"]}])[0]
             for host in (a, b, c)}
    ports = m.list(admin, "ports", QueryParams({"network_id": net["id"]}))[0]

    def remotes(host: str, port_list: list[dict]) -> set[str]:
        peers = {h: ip for h, ip in agent_records.tunnel_endpoints(cloud.db).items() if h in three_hosts}
        return {remote for _, remote in vxlan.fdb(net["id"], port_list, host, {**peers, host: three_hosts[host]})}

    assert remotes(b, ports) == {three_hosts[a], three_hosts[c]}
    done = m.fence_host(a)
    assert f"the agents of host {a} set down (3 agent(s))" in done  # datapath, DHCP, L3 and "1 port(s)" in done
    assert a not in agent_records.tunnel_endpoints(cloud.db) and {b, c} <= set(agent_records.tunnel_endpoints(cloud.db))
    fenced = m.get(admin, "ports", guest[a]["id"])
    assert (fenced["binding:host_id"], fenced["status"], fenced["device_id"]) == ("", "DOWN", guest[a]["device_id"])
    # What the surviving hosts reconcile from: no FDB entry points at the fenced host any more,
    # even for its agent's ports that stay bound there (a DHCP or router port).
    ports = m.list(admin, "ports", QueryParams({"network_id": net["id"]}))[0]
    stale = [dict(guest[a], **{"binding:host_id": a})]
    assert remotes(b, ports + stale) == {three_hosts[c]} and remotes(c, ports) == {three_hosts[b]}
    assert driver.of("port_updated", guest[a]["id"])[-1]["binding:host_id"] == ""
    assert driver.of("network_updated", net["id"])  # the agents reconcile at once
    assert [p["id"] for p in m.list_instance_ports(guest[a]["device_id"])] == [guest[a]["id"]]  # still its port
    # Evacuation binds it again where the server now runs.
    rebound = m.update(admin, "ports", guest[a]["id"], {"binding:host_id": b})
    assert (rebound["binding:host_id"], rebound["status"]) == (b, "ACTIVE")
    assert "0 port(s)" in m.fence_host(a)  # again: idempotent
    m.deallocate_for_instance(guest[a]["device_id"])
    for host in (b, c):
        m.deallocate_for_instance(guest[host]["device_id"])
    m.delete(admin, "networks", net["id"])


def test_the_noop_datapath_cuts_nothing(cloud, three_hosts):
    a = next(iter(three_hosts))
    driver = NoopDriver()
    assert manager_on(cloud, driver, "noop").fence_host(a) == (
        f"noop datapath: no network to cut host {a} off (nothing done)")
    assert a in agent_records.tunnel_endpoints(cloud.db) and not driver.events
