"""A whole application from one HOT template, as the user: network, subnet, router to
an external network, security group, two servers (one on its own port with a floating
IP), a volume attached; then an update (resize one server, add a third) and a delete
that leaves nothing behind."""

from __future__ import annotations

import pytest
from orchestration_helpers import assert_gone, create_stack, resources, stack_url, wait_stack

from orchestration_templates import APP, WEB3

from conftest import unique
from test_compute_helpers import make_flavor, make_image, new_member

NET = "/network/v2.0"

@pytest.fixture(scope="module")
def world(api, admin_token):
    member = new_member(api, admin_token)
    public = api.request("POST", f"{NET}/networks", admin_token, json={"network": {
        "name": unique("public"), "router:external": True}}).json()["network"]
    assert api.request("POST", f"{NET}/subnets", admin_token, json={"subnet": {
        "network_id": public["id"], "ip_version": 4, "cidr": "203.0.113.0/24"}}).status_code == 201
    return {"token": member["token"], "project": member["project"]["id"], "public": public["name"],
            "image": make_image(api, admin_token), "flavor": make_flavor(api, admin_token),
            "bigger": make_flavor(api, admin_token, ram=256)}


def _count(api, token, path, key, project):
    return len([i for i in api.request("GET", path, token).json()[key] if i.get("tenant_id", project) == project])


def test_application_lifecycle(api, world):
    token, project = world["token"], world["project"]
    params = {"image": world["image"], "flavor": world["flavor"]["name"], "public": world["public"]}
    name = unique("app")
    made = create_stack(api, token, project, name, APP, parameters=params)
    url = stack_url(project, name, made["stack"]["id"])
    stack = wait_stack(api, token, url)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    outputs = {o["output_key"]: o["output_value"] for o in stack["outputs"]}
    assert outputs["web1_ip"].startswith("10.77.0.")
    assert outputs["public_ip"].startswith("203.0.113.")
    net = resources(api, token, url)["net"]["physical_resource_id"]
    assert outputs["web2_networks"][net][0].startswith("10.77.0.")

    rows = resources(api, token, url)
    assert all(r["resource_status"] == "CREATE_COMPLETE" for r in rows.values())
    web1 = rows["web1"]["physical_resource_id"]
    server = api.request("GET", f"/compute/v2.1/servers/{web1}", token).json()["server"]
    assert server["name"] == "web1" and server["metadata"] == {"role": "web"}
    volume = api.request("GET", f"/volume/v3/{project}/volumes/{rows['data']['physical_resource_id']}",
                         token).json()["volume"]
    assert volume["status"] == "in-use" and volume["attachments"][0]["server_id"] == web1
    group = api.request("GET", f"{NET}/security-groups/{rows['sg']['physical_resource_id']}",
                        token).json()["security_group"]
    assert {(r["protocol"], r["port_range_min"]) for r in group["security_group_rules"]
            if r["direction"] == "ingress"} == {("tcp", 80), ("icmp", None)}

    # Update: web1 resized in place (same server), web3 added, the rest untouched.
    r = api.request("PUT", url, token, json={"template": APP.replace("outputs:", WEB3.strip("\n") + "\noutputs:"),
                                             "parameters": {**params, "flavor": world["bigger"]["id"]}})
    assert r.status_code == 202, r.text
    stack = wait_stack(api, token, url)
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    after = resources(api, token, url)
    assert after["web1"]["physical_resource_id"] == web1
    assert after["web1"]["resource_status"] == "UPDATE_COMPLETE"
    assert after["net"]["resource_status"] == "CREATE_COMPLETE"
    server = api.request("GET", f"/compute/v2.1/servers/{web1}", token).json()["server"]
    assert server["flavor"]["id"] == world["bigger"]["id"] and server["status"] == "ACTIVE"
    assert after["web3"]["resource_status"] == "CREATE_COMPLETE"

    assert api.request("DELETE", url, token).status_code == 204
    assert_gone(api, token, url)
    assert api.request("GET", "/compute/v2.1/servers", token).json()["servers"] == []
    assert api.request("GET", f"/volume/v3/{project}/volumes", token).json()["volumes"] == []
    for path, key in (("networks", "networks"), ("routers", "routers"), ("ports", "ports"),
                      ("floatingips", "floatingips")):
        assert _count(api, token, f"{NET}/{path}", key, project) == 0, path
    groups = api.request("GET", f"{NET}/security-groups", token).json()["security_groups"]
    assert [g["name"] for g in groups if g["tenant_id"] == project] == ["default"]
