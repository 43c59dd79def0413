"""Nested stacks as a Heat user meets them: a template resource's stack records its parent
(``parent``), is hidden from stack lists without ``show_nested``, lists its resources and
events under the parent's with ``nested_depth``, is suspended, resumed, abandoned, adopted
and deleted with its parent; ``OS::Heat::Stack``'s stack stays an ordinary one (Heat's
``RemoteStack``)."""

from __future__ import annotations

import json

import pytest
from orchestration_helpers import H, assert_gone, create_stack, heat_error, resources, stack_url, wait_stack
from test_orchestration_adopt import enabled

from conftest import unique
from test_compute_helpers import new_member

NESTED = """
heat_template_version: 2018-08-31
parameters:
  word: {type: string}
resources:
  inner: {type: OS::Heat::TestResource, properties: {value: {get_param: word}}}
  secret: {type: OS::Heat::RandomString, properties: {length: 10}}
outputs:
  echo: {value: {get_attr: [inner, output]}}
  secret: {value: {get_attr: [secret, value]}}
"""

PARENT = """
heat_template_version: 2018-08-31
resources:
  by_file: {type: nested.yaml, properties: {word: file}}
  by_registry: {type: My::Echo, properties: {word: registry}}
  inline:
    type: OS::Heat::Stack
    properties: {template: {get_file: nested.yaml}, parameters: {word: inline}}
outputs:
  secret: {value: {get_attr: [by_file, secret]}}
"""

ONE = """
heat_template_version: 2018-08-31
resources:
  by_file: {type: nested.yaml, properties: {word: file}}
"""

ENV = {"resource_registry": {"My::Echo": "nested.yaml"}}


@pytest.fixture(scope="module")
def member(api, admin_token):
    member = new_member(api, admin_token)
    return member["token"], member["project"]["id"]


def _parent(api, token, project, template=PARENT):
    name = unique("nst")
    made = create_stack(api, token, project, name, template, files={"nested.yaml": NESTED}, environment=ENV)
    url = stack_url(project, name, made["stack"]["id"])
    stack = wait_stack(api, token, url)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    return url, stack


def _listed(api, token, project, query=""):
    r = api.request("GET", f"{H}/{project}/stacks{query}", token)
    assert r.status_code == 200, r.text
    return {s["id"]: s for s in r.json()["stacks"]}


def _link(item, rel):
    return next((link["href"] for link in item["links"] if link["rel"] == rel), None)


def test_nested_stacks_are_hidden_shown_and_listed_as_heat(api, member):
    token, project = member
    url, stack = _parent(api, token, project)
    own = resources(api, token, url)
    assert {n: r["resource_type"] for n, r in own.items()} == {
        "by_file": "nested.yaml", "by_registry": "My::Echo", "inline": "OS::Heat::Stack"}
    nested = {n: own[n]["physical_resource_id"] for n in ("by_file", "by_registry")}
    inline = own["inline"]["physical_resource_id"]

    # Listed: the parent and OS::Heat::Stack's (an ordinary stack); nested ones with show_nested only.
    listed = _listed(api, token, project)
    assert stack["id"] in listed and inline in listed and not set(nested.values()) & set(listed)
    assert listed[inline]["parent"] is None and listed[stack["id"]]["parent"] is None
    every = _listed(api, token, project, "?show_nested=True")
    for name, stack_id in nested.items():
        assert every[stack_id]["parent"] == stack["id"]
        assert every[stack_id]["stack_name"].startswith(f"{stack['stack_name']}-{name}-")
    assert set(_listed(api, token, project, f"?show_nested=true&owner_id={stack['id']}")) == set(nested.values())
    heat_error(api.request("GET", f"{H}/{project}/stacks?show_nested=yes", token), 400, "HTTPBadRequest",
               'Unrecognized value "yes" for "show_nested", acceptable values are: true, false.')

    # The nested stack itself: shown with its parent, its resources with the parent's resource.
    nested_url = stack_url(project, every[nested["by_file"]]["stack_name"], nested["by_file"])
    shown = api.request("GET", nested_url, token).json()["stack"]
    assert shown["parent"] == stack["id"] and shown["stack_status"] == "CREATE_COMPLETE"
    assert resources(api, token, nested_url)["inner"]["parent_resource"] == "by_file"
    assert _link(own["by_file"], "nested").endswith(nested_url) and _link(own["inline"], "nested") is None
    r = api.request("GET", url + "/resources/by_registry", token)
    assert r.json()["resource"]["resource_type"] == "My::Echo"
    assert _link(r.json()["resource"], "nested").endswith(nested["by_registry"])

    # nested_depth: the nested stacks' resources after the parent's, each of its own stack.
    r = api.request("GET", url + "/resources?nested_depth=1", token)
    assert r.status_code == 200, r.text
    deep = r.json()["resources"]
    assert [x["resource_name"] for x in deep[:3]] == list(own)
    below = {(x["parent_resource"], x["resource_name"]): x for x in deep[3:]}
    assert set(below) == {(p, n) for p in ("by_file", "by_registry") for n in ("inner", "secret")}
    assert _link(below["by_file", "inner"], "stack").endswith(nested_url)
    assert len(api.request("GET", url + "/resources?nested_depth=1&name=inner", token).json()["resources"]) == 2
    for bad, message in (("x", "Only integer is acceptable by 'nested_depth'."),
                         ("-1", "Value '-1' is invalid for 'nested_depth' which only accepts non-negative integer.")):
        heat_error(api.request("GET", url + f"/resources?nested_depth={bad}", token), 400, "HTTPBadRequest",
                   message)
        heat_error(api.request("GET", url + f"/events?nested_depth={bad}", token), 400, "HTTPBadRequest")

    # Events with nested_depth: the nested stacks' too, each linking the root stack.
    r = api.request("GET", url + "/events?nested_depth=2", token)
    assert r.status_code == 200, r.text
    shown_events = r.json()["events"]
    inner = [e for e in shown_events if e["resource_name"] == "inner"]
    assert {e["resource_status"] for e in inner} == {"CREATE_IN_PROGRESS", "CREATE_COMPLETE"} and len(inner) == 4
    assert all(_link(e, "root_stack").endswith(url) for e in shown_events)
    assert {_link(e, "stack").rsplit("/", 1)[1] for e in inner} == set(nested.values())
    assert not any(e["resource_name"] == "inner" for e in api.request("GET", url + "/events", token).json()["events"])

    # The parent's delete removes its nested stacks.
    assert api.request("DELETE", url, token).status_code == 204
    assert_gone(api, token, url)
    assert api.request("GET", nested_url, token).status_code == 404
    assert not set(nested.values()) & set(_listed(api, token, project, "?show_nested=True"))


def test_nesting_is_the_engines_only(api, admin_token, member):
    """The engine's mark on a nested stack's create names a template resource being
    made in the caller's project: anything else is a 400, nothing recorded."""
    token, project = member
    url, stack = _parent(api, token, project)
    header = "X-Pocketstack-Parent-Resource"
    other = new_member(api, admin_token)
    for who, where, value in ((token, project, f"{stack['id']}/by_file"),  # complete, not being made
                              (token, project, f"{stack['id']}/inline"),
                              (token, project, "nope/by_file"),
                              (other["token"], other["project"]["id"], f"{stack['id']}/by_file")):
        name = unique("forged")
        r = api.request("POST", f"{H}/{where}/stacks", who, headers={header: value},
                        json={"stack_name": name, "template": NESTED, "parameters": {"word": "x"}})
        heat_error(r, 400, "HTTPBadRequest")
        assert not any(s["stack_name"] == name for s in _listed(api, who, where, "?show_nested=True").values())
    assert api.request("DELETE", url, token).status_code == 204
    assert_gone(api, token, url)


def test_suspend_and_resume_reach_nested_stacks(api, member):
    token, project = member
    url, _ = _parent(api, token, project, ONE)
    nested_id = resources(api, token, url)["by_file"]["physical_resource_id"]
    nested_url = f"{H}/{project}/stacks/{nested_id}"
    for action, status in (("suspend", "SUSPEND_COMPLETE"), ("resume", "RESUME_COMPLETE")):
        r = api.request("POST", url + "/actions", token, json={action: None})
        assert r.status_code == 200, r.text
        stack = wait_stack(api, token, url)
        assert stack["stack_status"] == status, stack["stack_status_reason"]
        r = api.request("GET", nested_url, token, follow_redirects=True)
        assert r.json()["stack"]["stack_status"] == status
        assert resources(api, token, url)["by_file"]["resource_status"] == status
    assert api.request("DELETE", url, token).status_code == 204
    assert_gone(api, token, url)


def test_abandon_includes_nested_stacks_and_adopt_makes_them_again(api, member):
    token, project = member
    with enabled(api):
        url, stack = _parent(api, token, project)
        own = resources(api, token, url)
        nested_id = own["by_file"]["physical_resource_id"]
        secret = next(o["output_value"] for o in stack["outputs"] if o["output_key"] == "secret")
        r = api.request("DELETE", url + "/abandon", token)
        assert r.status_code == 200, r.text
        data = r.json()
        entry = data["resources"]["by_file"]  # Heat's StackResource.prepare_abandon: the nested stack's data
        assert entry["id"] == nested_id and entry["name"].startswith(stack["stack_name"] + "-by_file-")
        assert entry["resources"]["secret"]["resource_data"]["value"] == secret
        assert entry["environment"]["parameters"] == {"word": "file"}
        assert data["resources"]["inline"]["resource_id"] == own["inline"]["physical_resource_id"]
        # Gone with the parent: the nested stacks' records (not the inline OS::Heat::Stack's, as in Heat).
        every = _listed(api, token, project, "?show_nested=True")
        assert nested_id not in every and own["by_registry"]["physical_resource_id"] not in every
        assert own["inline"]["physical_resource_id"] in every

        name = unique("nst")
        r = api.request("POST", f"{H}/{project}/stacks", token,
                        json={"stack_name": name, "adopt_stack_data": json.dumps(data),
                              "environment": ENV})  # Heat takes only parameters from the data
        assert r.status_code == 201, r.text
        new_url = stack_url(project, name, r.json()["stack"]["id"])
        adopted = wait_stack(api, token, new_url)
        assert adopted["stack_status"] == "ADOPT_COMPLETE", adopted["stack_status_reason"]
        assert next(o["output_value"] for o in adopted["outputs"] if o["output_key"] == "secret") == secret
        again = resources(api, token, new_url)
        assert {r["resource_status"] for r in again.values()} == {"ADOPT_COMPLETE"}
        child = _listed(api, token, project, "?show_nested=True")[again["by_file"]["physical_resource_id"]]
        assert child["parent"] == adopted["id"] and child["stack_status"] == "ADOPT_COMPLETE"
        assert api.request("DELETE", new_url, token).status_code == 204
        assert_gone(api, token, new_url)
        assert not any(s["parent"] == adopted["id"] for s in _listed(api, token, project, "?show_nested=True").values())
