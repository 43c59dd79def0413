"""Nova behaviours real clients and Tempest rely on (issue 16): the actions and listing of
deleted servers, security groups shown by name, the v2.0 version document, a volume
root with an imageRef, the ``internal`` zone for aggregates, and which network a server
gets when it names none (or one only an admin sees)."""

from __future__ import annotations

import pytest
from test_compute_network import NET, network, ports_of
from test_volume_servers import create_volume

from compute_fixtures import flavor, image  # noqa: F401 - fixtures
from conftest import unique
from test_compute_helpers import boot, call, new_member, wait, wait_gone


@pytest.fixture()
def member(api, admin_token):
    return new_member(api, admin_token)


def booted_and_deleted(api, token, image, flavor) -> dict:
    server = boot(api, token, image, flavor["id"])["server"]
    assert wait(api, token, server["id"])["status"] == "ACTIVE"
    assert call(api, "DELETE", f"/servers/{server['id']}", token).status_code == 204
    wait_gone(api, token, server["id"])
    return server


def test_actions_of_a_deleted_server_are_readable_from_2_21(api, member, demo_token, image, flavor):
    """Tempest's ``test_get_list_deleted_instance_actions``: ``create`` and ``delete``."""
    token = member["token"]
    server_id = booted_and_deleted(api, token, image, flavor)["id"]
    path = f"/servers/{server_id}/os-instance-actions"
    r = call(api, "GET", path, token, version="2.21")
    assert r.status_code == 200, r.text
    actions = r.json()["instanceActions"]
    assert sorted(a["action"] for a in actions) == ["create", "delete"]
    shown = call(api, "GET", f"{path}/{actions[0]['request_id']}", token, version="2.21")
    assert shown.status_code == 200 and shown.json()["instanceAction"]["instance_uuid"] == server_id
    assert call(api, "GET", path, token, version="2.20").status_code == 404  # before 2.21: gone
    assert call(api, "GET", path, demo_token, version="2.21").status_code == 404  # another project's
    assert call(api, "GET", f"/servers/{server_id}", token).status_code == 404  # the server itself is gone
    assert call(api, "POST", f"/servers/{server_id}/action", token, json={"reboot": {"type": "SOFT"}}
                ).status_code == 404  # and records no new action


def test_deleted_servers_are_listed_for_admins_with_their_markers(api, admin_token, member, image, flavor):
    """``servers/detail?deleted=True&marker=<a deleted server>`` (OSC's ``server list
    --deleted --marker``): the deleted servers after the marker, newest first."""
    token, project = member["token"], member["project"]["id"]
    first = booted_and_deleted(api, token, image, flavor)
    second = booted_and_deleted(api, token, image, flavor)
    query = f"/servers/detail?deleted=True&all_tenants=1&project_id={project}"
    listed = call(api, "GET", query, admin_token).json()["servers"]
    assert [s["id"] for s in listed] == [second["id"], first["id"]]
    assert {(s["status"], s["OS-EXT-STS:vm_state"]) for s in listed} == {("DELETED", "deleted")}
    assert all(s["OS-SRV-USG:terminated_at"] for s in listed)
    r = call(api, "GET", f"{query}&marker={second['id']}", admin_token)
    assert r.status_code == 200, r.text
    assert [s["id"] for s in r.json()["servers"]] == [first["id"]]
    by_status = call(api, "GET", f"/servers?status=deleted&all_tenants=1&project_id={project}", admin_token)
    assert [s["id"] for s in by_status.json()["servers"]] == [second["id"], first["id"]]
    # A deleted server is a marker of the live listing too (Nova reads markers deleted or not).
    assert call(api, "GET", f"/servers?all_tenants=1&marker={second['id']}", admin_token).status_code == 200
    # Members: ``deleted`` is an admin filter (ignored), ``status=deleted`` is refused.
    assert call(api, "GET", "/servers?deleted=True", token).json()["servers"] == []
    refused = call(api, "GET", "/servers?status=deleted", token)
    assert refused.status_code == 403 and "Only administrators may list deleted instances" in refused.text


def test_server_shows_its_security_groups_by_name(api, member, image, flavor):
    token = member["token"]
    name = unique("sg")
    group = call(api, "POST", "/os-security-groups", token, version="2.1",
                 json={"security_group": {"name": name, "description": "d"}}).json()["security_group"]
    made = boot(api, token, image, flavor["id"], security_groups=[{"name": group["id"]}, {"name": name}])
    assert made["server"]["security_groups"] == [{"name": name}]
    shown = wait(api, token, made["server"]["id"])
    assert shown["security_groups"] == [{"name": name}]
    listed = call(api, "GET", "/servers/detail", token).json()["servers"]
    assert [s["security_groups"] for s in listed] == [[{"name": name}]]


def test_versions_list_v2_0_and_its_root_answers(api):
    versions = api.request("GET", "/compute/").json()["versions"]
    assert [(v["id"], v["status"]) for v in versions] == [("v2.0", "DEPRECATED"), ("v2.1", "CURRENT")]
    for version in versions:
        href = version["links"][0]["href"]
        r = api.request("GET", href[href.index("/compute/"):])
        assert r.status_code == 200, (href, r.text)
        assert r.json()["version"]["id"] == version["id"]


@pytest.mark.parametrize("kind", ["blank", "empty volume"])
def test_a_non_bootable_root_volume_with_an_image_ref_is_accepted(api, member, image, flavor, kind):
    """Nova asks for a bootable boot volume only when no imageRef describes the server."""
    token, project = member["token"], {"token": member["token"], "id": member["project"]["id"]}
    if kind == "blank":
        root = {"source_type": "blank", "destination_type": "volume", "volume_size": 1}
    else:
        root = {"source_type": "volume", "destination_type": "volume", "uuid": create_volume(api, project)["id"]}
    body = {"server": {"name": unique("vm"), "imageRef": image, "flavorRef": flavor["id"], "networks": "none",
                       "block_device_mapping_v2": [{**root, "boot_index": 0, "delete_on_termination": True}]}}
    r = call(api, "POST", "/servers", token, json=body)
    assert r.status_code == 202, r.text
    server = wait(api, token, r.json()["server"]["id"])
    assert server["status"] == "ACTIVE", server.get("fault")
    assert server["image"]["id"] == image  # Nova records the imageRef
    assert len(server["os-extended-volumes:volumes_attached"]) == 1
    assert call(api, "DELETE", f"/servers/{server['id']}", token).status_code == 204
    wait_gone(api, token, server["id"])


def test_an_aggregate_may_name_the_internal_zone(api, admin_token):
    """Nova has no rule against it (``internal`` is only hidden from the zone list)."""
    r = call(api, "POST", "/os-aggregates", admin_token,
             json={"aggregate": {"name": unique("agg"), "availability_zone": "internal"}})
    assert r.status_code == 200, r.text
    assert r.json()["aggregate"]["availability_zone"] == "internal"
    assert call(api, "DELETE", f"/os-aggregates/{r.json()['aggregate']['id']}", admin_token).status_code == 200


def visible_networks(api, token, project_id: str) -> set[str]:
    own = api.request("GET", f"{NET}/networks?project_id={project_id}&shared=false", token).json()["networks"]
    shared = api.request("GET", f"{NET}/networks?shared=true", token).json()["networks"]
    return {n["id"] for n in own + shared}


def test_before_2_37_a_server_without_networks_gets_the_only_one(api, member, image, flavor):
    token = member["token"]
    net, _ = network(api, token, "10.93.0.0/24")
    body = {"server": {"name": unique("vm"), "imageRef": image, "flavorRef": flavor["id"]}}
    r = call(api, "POST", "/servers", token, version="2.36", json=body)
    if visible_networks(api, token, member["project"]["id"]) != {net["id"]}:
        # Another test's shared network is visible too: Nova's ambiguity.
        assert r.status_code == 409, r.text
        return
    assert r.status_code == 202, r.text
    server = wait(api, token, r.json()["server"]["id"])
    assert server["status"] == "ACTIVE" and list(server["addresses"]) == [net["name"]]
    assert call(api, "DELETE", f"/servers/{server['id']}", token).status_code == 204
    wait_gone(api, token, server["id"])


def test_before_2_37_several_networks_are_ambiguous(api, member, image, flavor):
    token = member["token"]
    network(api, token, "10.94.0.0/24")
    network(api, token, "10.94.1.0/24")
    body = {"server": {"name": unique("vm"), "imageRef": image, "flavorRef": flavor["id"]}}
    r = call(api, "POST", "/servers", token, version="2.1", json=body)
    assert r.status_code == 409, r.text
    assert r.json()["conflictingRequest"]["message"] == ("Multiple possible networks found, use a Network ID "
                                                         "to be more specific.")
    assert call(api, "GET", "/servers", token).json()["servers"] == []


def test_an_admin_boots_on_another_projects_private_network(api, admin_token, member, image, flavor):
    """The build makes the port with the admin's authority, as Nova's build uses the
    request's context: the network only the admin sees is found."""
    net, _ = network(api, member["token"], "10.95.0.0/24")
    server_id = boot(api, admin_token, image, flavor["id"], networks=[{"uuid": net["id"]}])["server"]["id"]
    server = wait(api, admin_token, server_id)
    assert server["status"] == "ACTIVE", server.get("fault")
    assert list(server["addresses"]) == [net["name"]]
    port = ports_of(api, admin_token, server_id)[0]
    assert port["network_id"] == net["id"] and port["project_id"] == server["tenant_id"]
    assert call(api, "DELETE", f"/servers/{server_id}", admin_token).status_code == 204
    wait_gone(api, admin_token, server_id)
