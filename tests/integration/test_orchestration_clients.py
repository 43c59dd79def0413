"""The real ``openstack stack`` CLI (python-heatclient) against a real ``pocketstack up``:
a whole application created from a template file, its outputs, resources and events,
updated (a server resized in place, a server added) and deleted with nothing left; a
stack abandoned and adopted again (``stack abandon`` / ``stack adopt``, enabled here as
Heat's ``enable_stack_abandon``/``enable_stack_adopt``)."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from orchestration_templates import APP, WEB3

from cloudproc import ADMIN_PASSWORD, running_cloud


@pytest.fixture(scope="module")
def proc(tmp_path_factory):
    with running_cloud(tmp_path_factory.mktemp("heatcli"), env={
            "POCKETSTACK_ORCHESTRATION_ENABLE_STACK_ABANDON": "true",
            "POCKETSTACK_ORCHESTRATION_ENABLE_STACK_ADOPT": "true"}) as proc:
        yield proc


def test_stack_lifecycle_with_the_cli(proc, tmp_path):
    os_ = proc.openstack
    disk = tmp_path / "disk.raw"
    disk.write_bytes(b"fake disk")
    os_("image", "create", "--file", str(disk), "--disk-format", "raw", "--public", "cirros", "-f", "json")
    os_("flavor", "create", "--vcpus", "1", "--ram", "128", "--disk", "1", "tiny", "-f", "json")
    os_("flavor", "create", "--vcpus", "1", "--ram", "256", "--disk", "1", "small", "-f", "json")
    os_("network", "create", "--external", "public", "-f", "json")
    os_("subnet", "create", "--network", "public", "--subnet-range", "203.0.113.0/24", "public-v4", "-f", "json")
    (tmp_path / "app.yaml").write_text(APP)
    (tmp_path / "app2.yaml").write_text(APP.replace("outputs:", WEB3.strip("\n") + "\noutputs:"))
    params = ["--parameter", "image=cirros", "--parameter", "public=public"]

    # --wait prints the events as they come, then the stack.
    created = os_("stack", "create", "-t", str(tmp_path / "app.yaml"), *params, "--parameter", "flavor=tiny",
                  "--wait", "app", parse=False, timeout=300)
    assert "[app]: CREATE_COMPLETE" in created.stdout, created.stdout
    stack = os_("stack", "show", "app", "-f", "json")
    assert stack["stack_status"] == "CREATE_COMPLETE", stack
    public_ip = os_("stack", "output", "show", "app", "public_ip", "-f", "json")["output_value"]
    assert public_ip.startswith("203.0.113.")
    listed = {r["resource_name"]: r for r in os_("stack", "resource", "list", "app", "-f", "json")}
    assert len(listed) == 11 and all(r["resource_status"] == "CREATE_COMPLETE" for r in listed.values())
    web1 = listed["web1"]["physical_resource_id"]
    assert os_("server", "show", web1, "-f", "json")["status"] == "ACTIVE"
    events = os_("stack", "event", "list", "app", "-f", "json")
    assert any(e["resource_name"] == "attach" and e["resource_status"] == "CREATE_COMPLETE" for e in events)
    assert os_("stack", "list", "-f", "json")[0]["Stack Name"] == "app"

    updated = os_("stack", "update", "-t", str(tmp_path / "app2.yaml"), *params, "--parameter", "flavor=small",
                  "--wait", "app", parse=False, timeout=300)
    assert "[app]: UPDATE_COMPLETE" in updated.stdout, updated.stdout
    assert os_("stack", "show", "app", "-f", "json")["stack_status"] == "UPDATE_COMPLETE"
    after = {r["resource_name"]: r for r in os_("stack", "resource", "list", "app", "-f", "json")}
    assert after["web1"]["physical_resource_id"] == web1 and "web3" in after
    flavor = os_("server", "show", web1, "-f", "json")["flavor"]
    assert (flavor.get("original_name") if isinstance(flavor, dict) else flavor.split(" ")[0]) == "small"
    assert len(os_("server", "list", "-f", "json")) == 3

    os_("stack", "delete", "--yes", "--wait", "app", parse=False, timeout=300)
    assert os_("stack", "list", "-f", "json") == []
    assert os_("server", "list", "-f", "json") == []
    assert os_("volume", "list", "-f", "json") == []
    assert [n["Name"] for n in os_("network", "list", "-f", "json")] == ["public"]
    assert os_("router", "list", "-f", "json") == [] and os_("floating ip", "list", "-f", "json") == []


SMALL = {"heat_template_version": "2018-08-31", "resources": {
    "net": {"type": "OS::Neutron::Net"}, "secret": {"type": "OS::Heat::RandomString"}}}


def _heat(proc):
    """An admin's client of the cloud's Heat API (what the CLI need not do for this test)."""
    auth = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": ADMIN_PASSWORD}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
    r = httpx.post(proc.url + "/identity/v3/auth/tokens", json=auth)
    project = r.json()["token"]["project"]["id"]
    return httpx.Client(base_url=f"{proc.url}/orchestration/v1/{project}",
                        headers={"X-Auth-Token": r.headers["X-Subject-Token"]}, follow_redirects=True)


def _settled(heat, name):
    deadline = time.monotonic() + 60
    while True:
        stack = heat.get(f"/stacks/{name}").json()["stack"]
        if not stack["stack_status"].endswith("IN_PROGRESS") or time.monotonic() > deadline:
            return stack
        time.sleep(0.1)


def test_abandon_and_adopt_with_the_cli(proc, tmp_path):
    """``stack abandon`` writes the data, ``stack adopt`` makes a stack that owns the same
    resources (two CLI calls; the stack made and watched over HTTP: ``--wait`` polls
    every 5 s)."""
    heat = _heat(proc)
    assert heat.post("/stacks", json={"stack_name": "small", "template": SMALL}).status_code == 201
    assert _settled(heat, "small")["stack_status"] == "CREATE_COMPLETE"
    proc.openstack("stack", "abandon", "--output-file", str(tmp_path / "small.json"), "small", parse=False)
    data = json.loads((tmp_path / "small.json").read_text())
    assert data["name"] == "small" and set(data["resources"]) == {"net", "secret"}
    assert heat.get("/stacks/small").status_code == 404
    proc.openstack("stack", "adopt", "--adopt-file", str(tmp_path / "small.json"), "again", parse=False)
    assert _settled(heat, "again")["stack_status"] == "ADOPT_COMPLETE"
    listed = heat.get("/stacks/again/resources").json()["resources"]
    assert {r["resource_name"]: (r["physical_resource_id"], r["resource_status"]) for r in listed} == {
        n: (entry["resource_id"], "ADOPT_COMPLETE") for n, entry in data["resources"].items()}
