"""Stack abandon, export and adopt as a Heat user meets them: off by default (Heat's
preview features), then a stack abandoned with its network left in Networking and
adopted again by a new stack that owns it (and deletes it), adopts that fail as Heat's
do, and bad adopt data refused."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from orchestration_helpers import (
    assert_gone,
    create_stack,
    heat_error,
    resources,
    stack_url,
    wait_stack,
)

from conftest import unique
from test_compute_helpers import new_member

NET = "/network/v2.0"

TEMPLATE = """
heat_template_version: 2018-08-31
parameters:
  word: {type: string, default: one}
resources:
  net:
    type: OS::Neutron::Net
    metadata: {role: front}
  secret: {type: OS::Heat::RandomString, properties: {length: 12}}
  word:
    type: OS::Heat::TestResource
    properties: {value: {get_param: word}}
    depends_on: net
outputs:
  secret: {value: {get_attr: [secret, value]}}
  net_name: {value: {get_attr: [net, name]}}
"""


@pytest.fixture(scope="module")
def member(api, admin_token):
    member = new_member(api, admin_token)
    return member["token"], member["project"]["id"]


@contextlib.contextmanager
def enabled(api, abandon=True, adopt=True):
    """Heat's ``enable_stack_abandon`` / ``enable_stack_adopt`` for the block."""
    settings = api.cloud.settings
    saved = settings.orchestration_enable_stack_abandon, settings.orchestration_enable_stack_adopt
    settings.orchestration_enable_stack_abandon, settings.orchestration_enable_stack_adopt = abandon, adopt
    try:
        yield
    finally:
        settings.orchestration_enable_stack_abandon, settings.orchestration_enable_stack_adopt = saved


def _done(api, token, url, expect):
    stack = wait_stack(api, token, url)
    assert stack["stack_status"] == expect, stack["stack_status_reason"]
    return url, stack


def _made(api, token, project, expect="CREATE_COMPLETE", **body):
    name = unique("adp")
    made = create_stack(api, token, project, name, TEMPLATE, **body)
    return _done(api, token, stack_url(project, name, made["stack"]["id"]), expect)


def _adopt(api, token, project, data, expect="ADOPT_COMPLETE"):
    """As python-heatclient adopts: no template, the data (its template inside)."""
    name = unique("adp")
    r = api.request("POST", f"/orchestration/v1/{project}/stacks", token,
                    json={"stack_name": name, "adopt_stack_data": data, "disable_rollback": True, "timeout": None})
    assert r.status_code == 201, r.text
    return _done(api, token, stack_url(project, name, r.json()["stack"]["id"]), expect)


def test_off_by_default_as_in_heat(api, member):
    token, project = member
    url, _ = _made(api, token, project)
    heat_error(api.request("DELETE", url + "/abandon", token), 400, "NotSupported", "Stack Abandon is not supported.")
    heat_error(api.request("GET", url + "/export", token), 400, "NotSupported", "Stack Abandon is not supported.")
    heat_error(api.request("DELETE", stack_url(project, "nope", "nope") + "/abandon", token), 400, "NotSupported")
    r = api.request("POST", f"/orchestration/v1/{project}/stacks", token,
                    json={"stack_name": unique("adp"), "adopt_stack_data": json.dumps({"template": TEMPLATE})})
    heat_error(r, 400, "NotSupported", "Stack Adopt is not supported.")
    assert api.request("GET", url, token).status_code == 200
    api.request("DELETE", url, token)
    assert_gone(api, token, url)


def test_abandon_leaves_resources_and_adopt_takes_them_over(api, admin_token, member):
    token, project = member
    with enabled(api):
        url, stack = _made(api, token, project, parameters={"word": "two"}, tags="a,b")
        before = resources(api, token, url)
        # Another project's member: refused by policy on A's URL, nothing found through their own.
        other = new_member(api, admin_token)
        assert api.request("DELETE", url + "/abandon", other["token"]).status_code == 403
        own = url.replace(project, other["project"]["id"])
        assert api.request("DELETE", own + "/abandon", other["token"]).status_code == 404
        exported = api.request("GET", url + "/export", token)
        assert exported.status_code == 200, exported.text
        r = api.request("DELETE", url + "/abandon", token)
        assert r.status_code == 200, r.text
        data = r.json()
        assert data == exported.json()
        assert {k: data[k] for k in ("name", "id", "action", "status", "project_id", "stack_user_project_id",
                                     "tags")} == {
            "name": stack["stack_name"], "id": stack["id"], "action": "CREATE", "status": "COMPLETE",
            "project_id": project, "stack_user_project_id": project, "tags": ["a", "b"]}
        assert data["environment"]["parameters"] == {"word": "two"} and "resources" in data["template"]
        net = data["resources"]["net"]
        assert net == {"name": "net", "resource_id": before["net"]["physical_resource_id"],
                       "type": "OS::Neutron::Net", "action": "CREATE", "status": "COMPLETE",
                       "metadata": {"role": "front"}, "resource_data": {}}
        secret = data["resources"]["secret"]["resource_data"]["value"]
        # The stack is gone; its network is still in Networking.
        assert api.request("GET", url, token).status_code == 404
        assert api.request("GET", f"{NET}/networks/{net['resource_id']}", token).status_code == 200

        # Adopted (heatclient sends the data as a JSON string): the same physical resources.
        new_url, adopted = _adopt(api, token, project, json.dumps(data))
        assert adopted["stack_status_reason"] == "Stack ADOPT completed successfully"
        after = resources(api, token, new_url)
        assert {n: r["resource_status"] for n, r in after.items()} == {
            n: "ADOPT_COMPLETE" for n in ("net", "secret", "word")}
        assert {n: r["physical_resource_id"] for n, r in after.items()} == {
            n: r["physical_resource_id"] for n, r in before.items()}
        outputs = {o["output_key"]: o["output_value"] for o in adopted["outputs"]}
        assert outputs["secret"] == secret and outputs["net_name"].startswith(stack["stack_name"] + "-net-")
        params = api.request("GET", new_url + "/environment", token).json()["parameters"]
        assert params == {"word": "two"}
        # An adopted stack is the user's like any other: updated, then deleted with its resources.
        r = api.request("PATCH", new_url, token, json={"parameters": {"word": "three"}})
        assert r.status_code == 202, r.text
        assert wait_stack(api, token, new_url)["stack_status"] == "UPDATE_COMPLETE"
        assert api.request("DELETE", new_url, token).status_code == 204
        assert_gone(api, token, new_url)
        assert api.request("GET", f"{NET}/networks/{net['resource_id']}", token).status_code == 404


def test_adopt_fails_as_heat(api, member):
    token, project = member
    with enabled(api):
        r = api.request("POST", f"{NET}/networks", token, json={"network": {"name": unique("adp")}})
        net_id = r.json()["network"]["id"]
        data = {"template": TEMPLATE, "resources": {
            "net": {"resource_id": net_id, "type": "OS::Neutron::Net"},
            "secret": {"resource_id": "abc", "resource_data": {"value": "abc"}}}}
        url, stack = _adopt(api, token, project, data, expect="ADOPT_FAILED")
        assert stack["stack_status_reason"] == \
            "Resource ADOPT failed: Exception: resources.word: Resource ID was not provided."
        rows = resources(api, token, url)
        assert rows["word"]["resource_status"] == "ADOPT_FAILED"
        assert rows["net"]["physical_resource_id"] == net_id
        # A resource_id that names nothing: the service's own NotFound.
        data["resources"]["net"]["resource_id"] = "5d8a2d1e-0000-4000-8000-000000000000"
        data["resources"]["word"] = {"resource_id": "w", "resource_data": {"value": "one"}}
        gone_url, stack = _adopt(api, token, project, data, expect="ADOPT_FAILED")
        assert stack["stack_status_reason"].startswith("Resource ADOPT failed: NotFound: resources.net: "), \
            stack["stack_status_reason"]
        for each in (url, gone_url):
            assert api.request("DELETE", each, token).status_code == 204
            assert_gone(api, token, each)
        assert api.request("GET", f"{NET}/networks/{net_id}", token).status_code == 404


@pytest.mark.parametrize("data, message", [
    ("{not: [valid", None),
    (json.dumps({"resources": {}}), "Invalid adopt data: 'template'"),
    ([1, 2], "Invalid adopt data: the data is not an object"),
    ({"template": TEMPLATE, "resources": [1]}, "Invalid adopt data: 'resources' is not an object"),
    ({"template": TEMPLATE, "files": "x"}, "Invalid adopt data: 'files' is not an object"),
])
def test_bad_adopt_data(api, member, data, message):
    token, project = member
    with enabled(api):
        r = api.request("POST", f"/orchestration/v1/{project}/stacks", token,
                        json={"stack_name": unique("adp"), "adopt_stack_data": data})
        heat_error(r, 400, "HTTPBadRequest", message)


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                 max_size=3), max_leaves=8)
_ENTRY = st.dictionaries(st.sampled_from(["resource_id", "resource_data", "metadata", "type"]), _JSON, max_size=4)
_DATA = st.fixed_dictionaries({}, optional={
    "template": st.just(TEMPLATE) | _JSON, "files": _JSON, "environment": _JSON | st.fixed_dictionaries(
        {"parameters": _JSON}),
    "resources": _JSON | st.dictionaries(st.sampled_from(["net", "secret", "word", "x"]), _ENTRY | _JSON,
                                         max_size=3)})


def test_fuzzed_adopt_data_is_never_a_server_error(api, member):
    """Whatever the data, a 201 or Heat's 400, never a 500 (the engine's part is then any
    stack's: it fails as the resources' reasons)."""
    token, project = member
    statuses = []

    @settings(max_examples=40, derandomize=True, database=None, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(data=_DATA | _JSON, as_text=st.booleans())
    def post(data, as_text):
        body = {"stack_name": unique("fz"), "adopt_stack_data": json.dumps(data) if as_text else data}
        r = api.request("POST", f"/orchestration/v1/{project}/stacks", token, json=body)
        assert r.status_code in (201, 400), r.text
        statuses.append(r.status_code)
        if r.status_code == 201:
            url = stack_url(project, body["stack_name"], r.json()["stack"]["id"])
            assert wait_stack(api, token, url)["stack_status"] in ("ADOPT_COMPLETE", "ADOPT_FAILED")
            assert api.request("DELETE", url, token).status_code == 204

    with enabled(api):
        post()
    assert 201 in statuses and 400 in statuses  # both the engine's part and the refusals were reached
