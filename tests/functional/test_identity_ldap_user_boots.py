"""An LDAP user boots a server: a domain backed by a real ``slapd``, one of its users
given a role on a project, who signs in with the directory password and, with that
token alone, makes a network port and a volume, boots a (fake-driver) server on the
port and attaches the volume -- every service taking the SHA-256 mapped user id as
the owner, as they would a SQL user's."""

from __future__ import annotations

import pytest
from test_identity_ldap import TOKENS, V3, ldap_config, new_domain, new_project, role_id, sha256_id
from test_volume_servers import V, wait_volume

from ldapserver import running_slapd, user_ldif

from compute_fixtures import flavor, image  # noqa: F401 - the fixtures, used by name
from conftest import unique
from test_compute_helpers import call, wait, wait_gone


@pytest.fixture(scope="module")
def directory_user(api, admin_token, tmp_path_factory):
    """``dana`` of a directory domain, member of a project of that domain."""
    with running_slapd(tmp_path_factory.mktemp("slapd-boots")) as slapd:
        slapd.add(user_ldif("dana", "dana-pw-1", mail="dana@example.org"))
        domain = new_domain(api, admin_token)
        r = api.request("PUT", f"{V3}/domains/{domain}/config", admin_token, json={"config": ldap_config(slapd.url)})
        assert r.status_code == 201, r.text
        project = new_project(api, admin_token, domain)
        # As `openstack role add --user dana --user-domain …` does: the name first (as in
        # Keystone, a directory user's public id resolves once a read has mapped it).
        found = api.request("GET", f"{V3}/users?domain_id={domain}&name=dana", admin_token).json()["users"]
        user_id = found[0]["id"]
        assert user_id == sha256_id(domain, "dana", "user")
        r = api.request("PUT", f"{V3}/projects/{project}/users/{user_id}/roles/{role_id(api, admin_token, 'member')}",
                        admin_token)
        assert r.status_code == 204, r.text
        yield {"domain": domain, "project": project, "id": user_id}


def test_ldap_user_boots_a_server_with_a_port_and_a_volume(api, directory_user, image, flavor):  # noqa: F811
    project, user_id = directory_user["project"], directory_user["id"]
    signed_in = api.request("POST", TOKENS, json={"auth": {
        "identity": {"methods": ["password"], "password": {
            "user": {"name": "dana", "domain": {"id": directory_user["domain"]}, "password": "dana-pw-1"}}},
        "scope": {"project": {"id": project}}}})
    assert signed_in.status_code == 201, signed_in.text
    token = signed_in.headers["X-Subject-Token"]
    assert signed_in.json()["token"]["user"]["id"] == user_id

    network = api.request("POST", "/network/v2.0/networks", token, json={"network": {"name": unique("ldn")}})
    assert network.status_code == 201, network.text
    network_id = network.json()["network"]["id"]
    subnet = api.request("POST", "/network/v2.0/subnets", token, json={"subnet": {
        "network_id": network_id, "ip_version": 4, "cidr": "10.61.0.0/24"}})
    assert subnet.status_code == 201, subnet.text
    port = api.request("POST", "/network/v2.0/ports", token, json={"port": {"network_id": network_id}})
    assert port.status_code == 201, port.text
    port = port.json()["port"]
    assert port["project_id"] == project

    volume = api.request("POST", f"/volume/v3/{project}/volumes", token, headers={V: "volume 3.44"},
                         json={"volume": {"size": 1, "name": unique("ldv")}})
    assert volume.status_code == 202, volume.text
    owner = {"id": project, "token": token}
    volume = wait_volume(api, owner, volume.json()["volume"]["id"], ("available", "error"))
    assert volume["status"] == "available" and volume["user_id"] == user_id

    booted = call(api, "POST", "/servers", token, json={"server": {
        "name": unique("ldvm"), "imageRef": image, "flavorRef": flavor["id"], "networks": [{"port": port["id"]}]}})
    assert booted.status_code == 202, booted.text
    server_id = booted.json()["server"]["id"]
    server = wait(api, token, server_id)
    assert server["status"] == "ACTIVE", server.get("fault")
    assert server["user_id"] == user_id and server["tenant_id"] == project
    attached = call(api, "POST", f"/servers/{server_id}/os-volume_attachments", token,
                    json={"volumeAttachment": {"volumeId": volume["id"]}})
    assert attached.status_code == 200, attached.text
    assert wait_volume(api, owner, volume["id"], ("in-use", "error"))["status"] == "in-use"
    shown = api.request("GET", f"/network/v2.0/ports/{port['id']}", token).json()["port"]
    assert shown["device_id"] == server_id and shown["device_owner"].startswith("compute:")
    server = wait(api, token, server_id)
    assert [v["id"] for v in server["os-extended-volumes:volumes_attached"]] == [volume["id"]]
    assert call(api, "GET", "/servers", token).json()["servers"][0]["id"] == server_id

    assert call(api, "DELETE", f"/servers/{server_id}", token).status_code == 204
    wait_gone(api, token, server_id)
    assert wait_volume(api, owner, volume["id"], ("available", "error"))["status"] == "available"
    r = api.request("DELETE", f"/volume/v3/{project}/volumes/{volume['id']}", token, headers={V: "volume 3.44"})
    assert r.status_code == 202, r.text
    assert api.request("DELETE", f"/network/v2.0/ports/{port['id']}", token).status_code == 204
