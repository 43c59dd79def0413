"""Stack actions (suspend, resume, check, cancel_update, cancel_without_rollback) and wait
conditions, as a Heat user meets them: the state each reaches, the refusals in Heat's
fault format, servers suspended and resumed in Compute, handles signalled with their own
token."""

from __future__ import annotations

import json
import time

import pytest
from orchestration_helpers import (
    assert_gone,
    create_stack,
    events,
    heat_error,
    resources,
    stack_url,
    wait_stack,
)

from conftest import unique
from test_compute_helpers import make_flavor, make_image, new_member

NET = "/network/v2.0"
PUBLIC = "http://127.0.0.1:8780"

PLAIN = """
heat_template_version: 2018-08-31
parameters:
  word: {type: string, default: one}
  wait: {type: number, default: 0}
resources:
  net: {type: OS::Neutron::Net}
  word:
    type: OS::Heat::TestResource
    properties: {value: {get_param: word}, action_wait_secs: {update: {get_param: wait}}}
    depends_on: net
outputs:
  word: {value: {get_attr: [word, output]}}
"""


@pytest.fixture(scope="module")
def member(api, admin_token):
    member = new_member(api, admin_token)
    return member["token"], member["project"]["id"]


def _stack(api, token, project, template, expect="CREATE_COMPLETE", wait=True, **body):
    name = unique("act")
    made = create_stack(api, token, project, name, template, **body)
    url = stack_url(project, name, made["stack"]["id"])
    if wait:
        stack = wait_stack(api, token, url)
        assert stack["stack_status"] == expect, stack["stack_status_reason"]
    return url


def _act(api, token, url, action, expect=200):
    r = api.request("POST", url + "/actions", token, json={action: None})
    assert r.status_code == expect, r.text
    return r


def _done(api, token, url, expect):
    stack = wait_stack(api, token, url)
    assert stack["stack_status"] == expect, stack["stack_status_reason"]
    return stack


def _wait_for(what, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _statuses(api, token, url):
    return {name: row["resource_status"] for name, row in resources(api, token, url).items()}


# -- suspend, resume, check ----------------------------------------------------------------
def test_suspend_resume_check_and_what_each_refuses(api, member):
    token, project = member
    url = _stack(api, token, project, PLAIN)
    heat_error(_act(api, token, url, "resume", 400), 400, "NotSupported",
               "Resuming a stack when it is CREATE_COMPLETE is not supported.")

    _act(api, token, url, "suspend")
    stack = _done(api, token, url, "SUSPEND_COMPLETE")
    assert stack["stack_status_reason"] == "Stack SUSPEND completed successfully"
    assert set(_statuses(api, token, url).values()) == {"SUSPEND_COMPLETE"}
    order = [(e["resource_name"], e["resource_status"]) for e in events(api, token, url)]
    assert order.index(("word", "SUSPEND_COMPLETE")) < order.index(("net", "SUSPEND_IN_PROGRESS"))  # reverse order
    assert ("net", "SUSPEND_COMPLETE") in order and order[-1][1] == "SUSPEND_COMPLETE"
    _act(api, token, url, "suspend")  # already suspended: nothing to do
    assert wait_stack(api, token, url)["stack_status"] == "SUSPEND_COMPLETE"
    heat_error(api.request("PATCH", url, token, json={"parameters": {"word": "two"}}), 400, "NotSupported",
               "Updating a stack when it is suspended is not supported.")

    _act(api, token, url, "resume")
    _done(api, token, url, "RESUME_COMPLETE")
    assert set(_statuses(api, token, url).values()) == {"RESUME_COMPLETE"}
    heat_error(_act(api, token, url, "cancel_update", 400), 400, "NotSupported",
               "Cancelling update when stack is RESUME_COMPLETE is not supported.")
    heat_error(_act(api, token, url, "cancel_without_rollback", 400), 400, "NotSupported",
               "Cancelling update when stack is RESUME_COMPLETE is not supported.")

    _act(api, token, url, "check")
    stack = _done(api, token, url, "CHECK_COMPLETE")
    assert stack["stack_status_reason"] == "Stack CHECK completed successfully. 'CHECK' not fully supported " \
                                           "(see resources)"
    rows = resources(api, token, url)
    assert rows["net"]["resource_status"] == "CHECK_COMPLETE"
    assert (rows["word"]["resource_status"], rows["word"]["resource_status_reason"]) == (
        "CHECK_COMPLETE", "CHECK not supported for OS::Heat::TestResource")

    net = rows["net"]["physical_resource_id"]
    assert api.request("DELETE", f"{NET}/networks/{net}", token).status_code == 204
    _act(api, token, url, "check")
    stack = _done(api, token, url, "CHECK_FAILED")
    reason = f"NotFound: resources.net: The network ({net}) could not be found."
    assert stack["stack_status_reason"] == "Resource CHECK failed: " + reason
    assert resources(api, token, url)["net"]["resource_status_reason"] == reason
    heat_error(_act(api, token, url, "resume", 400), 400, "NotSupported")
    # An update replaces what the check found missing, as after mark-unhealthy.
    assert api.request("PATCH", url, token, json={}).status_code == 202
    _done(api, token, url, "UPDATE_COMPLETE")
    assert resources(api, token, url)["net"]["physical_resource_id"] != net
    assert api.request("DELETE", url, token).status_code == 204
    assert_gone(api, token, url)


@pytest.mark.parametrize("body, message", [
    (None, "No action specified"), ({}, "No action specified"),
    ({"suspend": None, "resume": None}, "Multiple actions specified"),
    ({"explode": None}, "Invalid action explode specified"), ([1], "Invalid action specified"),
])
def test_action_bodies_heat_refuses(api, member, body, message):
    token, project = member
    url = stack_url(project, "nothing", "00000000-0000-0000-0000-000000000000")
    r = api.request("POST", url + "/actions", token, **({} if body is None else {"json": body}))
    heat_error(r, 400, "HTTPBadRequest", message)


def test_actions_of_a_missing_stack_are_404_and_readers_may_only_check(api, admin_token, member):
    token, project = member
    missing = stack_url(project, "nothing", "00000000-0000-0000-0000-000000000000")
    heat_error(_act(api, token, missing, "suspend", 404), 404, "EntityNotFound")
    url = _stack(api, token, project, PLAIN)
    reader = new_member(api, admin_token, role="reader", project={"id": project, "name": _project_name(
        api, admin_token, project)})["token"]
    heat_error(_act(api, reader, url, "suspend", 403), 403, "Forbidden")
    _act(api, reader, url, "check")
    _done(api, token, url, "CHECK_COMPLETE")


def _project_name(api, admin_token, project_id):
    return api.request("GET", f"/identity/v3/projects/{project_id}", admin_token).json()["project"]["name"]


def test_actions_while_in_progress_are_409(api, member):
    token, project = member
    slow = PLAIN.replace("action_wait_secs: {update: {get_param: wait}}", "wait_secs: 2")
    url = _stack(api, token, project, slow, wait=False)
    for action in ("suspend", "resume", "check"):
        heat_error(_act(api, token, url, action, 409), 409, "ActionInProgress")
    heat_error(_act(api, token, url, "cancel_update", 400), 400, "NotSupported",
               "Cancelling update when stack is CREATE_IN_PROGRESS is not supported.")
    _done(api, token, url, "CREATE_COMPLETE")


# -- cancelling ------------------------------------------------------------------------------
def test_cancel_update_rolls_back_to_the_previous_template(api, member):
    token, project = member
    url = _stack(api, token, project, PLAIN)
    r = api.request("PATCH", url, token, json={"parameters": {"word": "two", "wait": 5}})
    assert r.status_code == 202, r.text
    _wait_for(lambda: _statuses(api, token, url)["word"] == "UPDATE_IN_PROGRESS")
    _act(api, token, url, "cancel_update")
    stack = _done(api, token, url, "ROLLBACK_COMPLETE")
    assert stack["outputs"][0]["output_value"] == "one"
    assert stack["parameters"]["word"] == "one"


def test_cancel_without_rollback_ends_the_create(api, member):
    token, project = member
    slow = PLAIN.replace("action_wait_secs: {update: {get_param: wait}}", "wait_secs: 30")
    url = _stack(api, token, project, slow, wait=False)
    _wait_for(lambda: _statuses(api, token, url).get("word") == "CREATE_IN_PROGRESS")
    _act(api, token, url, "cancel_without_rollback")
    stack = api.request("GET", url, token).json()["stack"]
    assert (stack["stack_status"], stack["stack_status_reason"]) == ("CREATE_FAILED", "Stack CREATE cancelled")
    time.sleep(0.5)  # nothing of the cancelled create writes on
    assert api.request("GET", url, token).json()["stack"]["stack_status"] == "CREATE_FAILED"
    assert api.request("DELETE", url, token).status_code == 204
    assert_gone(api, token, url)


# -- servers -----------------------------------------------------------------------------------
SERVER = """
heat_template_version: 2018-08-31
parameters:
  image: {type: string}
  flavor: {type: string}
resources:
  server:
    type: OS::Nova::Server
    properties: {image: {get_param: image}, flavor: {get_param: flavor}, networks: [{allocate_network: none}]}
"""


def test_suspend_and_resume_reach_the_server(api, admin_token, member):
    token, project = member
    params = {"image": make_image(api, admin_token), "flavor": make_flavor(api, admin_token)["id"]}
    url = _stack(api, token, project, SERVER, parameters=params)
    server_id = resources(api, token, url)["server"]["physical_resource_id"]

    def server_status():
        return api.request("GET", f"/compute/v2.1/servers/{server_id}", token).json()["server"]["status"]

    _act(api, token, url, "suspend")
    _done(api, token, url, "SUSPEND_COMPLETE")
    assert server_status() == "SUSPENDED"
    _act(api, token, url, "resume")
    _done(api, token, url, "RESUME_COMPLETE")
    assert server_status() == "ACTIVE"
    _act(api, token, url, "check")
    stack = _done(api, token, url, "CHECK_COMPLETE")
    assert stack["stack_status_reason"] == "Stack CHECK completed successfully"

    _act(api, token, url, "suspend")
    _done(api, token, url, "SUSPEND_COMPLETE")
    _act(api, token, url, "check")  # Heat's check of a server wants it ACTIVE
    stack = _done(api, token, url, "CHECK_FAILED")
    assert stack["stack_status_reason"] == "Resource CHECK failed: Error: resources.server: 'status': expected " \
                                           "'ACTIVE', got 'SUSPENDED'"
    heat_error(_act(api, token, url, "suspend", 400), 400, "NotSupported",
               "Suspending a stack when it is CHECK_FAILED is not supported.")
    assert api.request("DELETE", url, token).status_code == 204
    assert_gone(api, token, url)


# -- wait conditions ---------------------------------------------------------------------------
WAIT = """
heat_template_version: 2018-08-31
parameters:
  count: {type: number, default: 2}
  timeout: {type: number, default: 60}
resources:
  handle: {type: OS::Heat::WaitConditionHandle}
  other: {type: OS::Heat::WaitConditionHandle}
  wait:
    type: OS::Heat::WaitCondition
    properties: {handle: {get_resource: handle}, count: {get_param: count}, timeout: {get_param: timeout}}
  after:
    type: OS::Heat::TestResource
    properties: {value: {get_attr: [wait, data]}}
outputs:
  data: {value: {get_attr: [wait, data]}}
  curl: {value: {get_attr: [handle, curl_cli]}}
"""


def _handle(api, token, url, name="handle"):
    """The handle's attributes once it is created (the stack waiting on it)."""
    _wait_for(lambda: _statuses(api, token, url).get(name) == "CREATE_COMPLETE")
    shown = api.request("GET", f"{url}/resources/{name}", token).json()["resource"]
    attributes = shown["attributes"]
    assert attributes["endpoint"] == f"{PUBLIC}{url}/resources/{name}/signal"
    assert json.loads(attributes["signal"]) == {"endpoint": attributes["endpoint"], "token": attributes["token"]}
    return attributes


def _signal(api, attributes, expect=200, token=None, **body):
    r = api.request("POST", attributes["endpoint"].removeprefix(PUBLIC), token or attributes["token"], json=body)
    assert r.status_code == expect, r.text
    return r


def test_wait_condition_completes_on_count_successes(api, member):
    token, project = member
    url = _stack(api, token, project, WAIT, wait=False)
    handle = _handle(api, token, url)
    assert handle["curl_cli"] == (f"curl -i -X POST -H 'X-Auth-Token: {handle['token']}' -H 'Content-Type: "
                                  f"application/json' -H 'Accept: application/json' {handle['endpoint']}")
    _signal(api, handle, status="SUCCESS", reason="first up", data="d1", id="a")
    time.sleep(0.5)
    assert wait_stack(api, token, url, timeout=0)["stack_status"] == "CREATE_IN_PROGRESS"
    assert _statuses(api, token, url)["wait"] == "CREATE_IN_PROGRESS"
    # The handle's token signals that handle only: not another, not any other route.
    other = _handle(api, token, url, "other")
    _signal(api, other, 403, token=handle["token"])
    heat_error(api.request("GET", url, handle["token"]), 403, "Forbidden")
    assert api.request("GET", "/compute/v2.1/servers", handle["token"]).status_code == 401
    _signal(api, handle, data={"k": [1, 2]}, token=token)  # a member may signal too; id: the signal's number
    stack = _done(api, token, url, "CREATE_COMPLETE")
    data = json.loads({o["output_key"]: o["output_value"] for o in stack["outputs"]}["data"])
    assert data == {"a": "d1", "2": {"k": [1, 2]}}
    metadata = api.request("GET", f"{url}/resources/handle/metadata", token).json()["metadata"]
    assert metadata == {"a": {"status": "SUCCESS", "reason": "first up", "data": "d1"},
                        "2": {"status": "SUCCESS", "reason": "Signal 2 received", "data": {"k": [1, 2]}}}
    signals = [e["resource_status_reason"] for e in events(api, token, url)
               if e["resource_name"] == "handle" and e["resource_status"].startswith("SIGNAL")]
    assert signals == ["Signal: status:SUCCESS reason:first up", "Signal: status:SUCCESS reason:Signal 2 received"]
    assert api.request("DELETE", url, token).status_code == 204
    assert_gone(api, token, url)
    assert api.request("POST", handle["endpoint"].removeprefix(PUBLIC), handle["token"],
                       json={}).status_code == 401  # a deleted handle's token is no token


def test_wait_condition_fails_on_a_failure_signal(api, member):
    token, project = member
    url = _stack(api, token, project, WAIT, wait=False)
    handle = _handle(api, token, url)
    _signal(api, handle, status="FAILURE", reason="boot script failed")
    stack = _done(api, token, url, "CREATE_FAILED")
    assert stack["stack_status_reason"] == "Resource CREATE failed: WaitConditionFailure: resources.wait: " \
                                           "boot script failed"


def test_wait_condition_times_out(api, member):
    token, project = member
    url = _stack(api, token, project, WAIT, wait=False, parameters={"count": 1, "timeout": 1})
    stack = _done(api, token, url, "CREATE_FAILED")
    assert stack["stack_status_reason"] == "Resource CREATE failed: WaitConditionTimeout: resources.wait: " \
                                           "0 of 1 received"
    assert _statuses(api, token, url)["wait"] == "CREATE_FAILED"


@pytest.mark.parametrize("body", [{"status": "MAYBE"}, {"status": "SUCCESS", "extra": 1}, {"id": {"a": 1}},
                                  "SUCCESS", [1, 2]])
def test_bad_signal_bodies_are_400(api, member, body):
    token, project = member
    url = _stack(api, token, project, WAIT, wait=False, parameters={"timeout": 30})
    handle = _handle(api, token, url)
    r = api.request("POST", handle["endpoint"].removeprefix(PUBLIC), handle["token"], json=body)
    heat_error(r, 400, "ResourceFailure", "ValueError: resources.handle: Metadata format invalid")
    r = api.request("POST", handle["endpoint"].removeprefix(PUBLIC), handle["token"], content=b"{not json",
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["code"] == 400
    heat_error(api.request("POST", f"{url}/resources/after/signal", token, json={}), 400,
               "ResourceActionNotSupported", "Signal is not supported for resource.")
    heat_error(api.request("POST", handle["endpoint"].removeprefix(PUBLIC), handle["token"] + "x", json={}),
               401, "Unauthorized")
    assert api.request("GET", f"{url}/resources/handle/metadata", token).json()["metadata"] == {}
    _act(api, token, url, "cancel_without_rollback")
    assert api.request("DELETE", url, token).status_code == 204
    assert_gone(api, token, url)


def test_handle_endpoint_follows_orchestration_heat_url(api, cloud, member, monkeypatch):
    """``orchestration_heat_url`` (Heat's ``[clients_heat] url``) is the endpoint a handle
    gives out, ``%(tenant_id)s`` the stack's project: guests may reach the API by another
    address than the catalog's.  The signal itself goes to the API's own path."""
    token, project = member
    monkeypatch.setattr(cloud.settings, "orchestration_heat_url", "http://heat.example.org:8004/v1/%(tenant_id)s/")
    url = _stack(api, token, project, WAIT, wait=False, parameters={"count": 1})
    _wait_for(lambda: _statuses(api, token, url).get("handle") == "CREATE_COMPLETE")
    handle = api.request("GET", f"{url}/resources/handle", token).json()["resource"]["attributes"]
    endpoint = "http://heat.example.org:8004" + url.removeprefix("/orchestration") + "/resources/handle/signal"
    assert handle["endpoint"] == endpoint
    assert handle["curl_cli"].endswith(f"-H 'Accept: application/json' {endpoint}")
    assert json.loads(handle["signal"]) == {"endpoint": endpoint, "token": handle["token"]}
    assert api.request("POST", f"{url}/resources/handle/signal", handle["token"], json={}).status_code == 200
    _done(api, token, url, "CREATE_COMPLETE")
    assert api.request("DELETE", url, token).status_code == 204
    assert_gone(api, token, url)
