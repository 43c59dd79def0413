"""The Orchestration API's shapes and errors as python-heatclient meets them: Heat's
fault body, stack lookup redirects, resources, events, outputs, validation, resource
types, template versions and functions, preview, environments, updates."""

from __future__ import annotations

import pytest
from orchestration_helpers import H, assert_gone, create_stack, events, resources, stack_url, wait_stack
from orchestration_helpers import heat_error as _heat_error

from conftest import unique
from test_compute_helpers import new_member

SIMPLE = """
heat_template_version: 2018-08-31
description: two test resources
parameter_groups: [{label: main, parameters: [word]}]
parameters:
  word: {type: string, default: hello, description: a word, constraints: [{length: {min: 1}}]}
resources:
  first: {type: OS::Heat::TestResource, properties: {value: {get_param: word}}}
  second:
    type: OS::Heat::TestResource
    properties: {value: {str_replace: {template: X!, params: {X: {get_attr: [first, output]}}}}}
outputs:
  shout: {description: the word shouted, value: {get_attr: [second, output]}}
"""


@pytest.fixture(scope="module")
def member(api, admin_token):
    member = new_member(api, admin_token)
    return member["token"], member["project"]["id"]


@pytest.fixture(scope="module")
def stack(api, member):
    token, project = member
    name = unique("api")
    made = create_stack(api, token, project, name, SIMPLE, parameters={"word": "hi"}, tags="a,b")
    url = stack_url(project, name, made["stack"]["id"])
    assert wait_stack(api, token, url)["stack_status"] == "CREATE_COMPLETE"
    return {"name": name, "id": made["stack"]["id"], "url": url, "made": made}


def test_create_answers_the_stack_id_and_its_link(api, member, stack):
    token, project = member
    assert stack["made"]["stack"]["links"] == [{"href": f"http://127.0.0.1:8780{stack['url']}", "rel": "self"}]


def test_show_and_list(api, member, stack):
    token, project = member
    shown = api.request("GET", stack["url"], token).json()["stack"]
    assert shown["stack_name"] == stack["name"] and shown["description"] == "two test resources"
    assert shown["parameters"]["word"] == "hi" and shown["parameters"]["OS::stack_id"] == stack["id"]
    assert shown["outputs"] == [{"output_key": "shout", "description": "the word shouted", "output_value": "hi!"}]
    assert shown["tags"] == ["a", "b"] and shown["disable_rollback"] is True
    assert shown["creation_time"].endswith("Z")
    listed = api.request("GET", f"{H}/{project}/stacks", token).json()["stacks"]
    assert stack["id"] in [s["id"] for s in listed]
    assert [s["id"] for s in api.request("GET", f"{H}/{project}/stacks?name={stack['name']}",
                                         token).json()["stacks"]] == [stack["id"]]
    assert api.request("GET", f"{H}/{project}/stacks?tags=nope", token).json()["stacks"] == []


@pytest.mark.parametrize("key", ["name", "id"])
def test_lookup_redirects_to_the_stack_url(api, member, stack, key):
    token, project = member
    r = api.request("GET", f"{H}/{project}/stacks/{stack[key]}", token, follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"] == f"http://127.0.0.1:8780{stack['url']}"
    r = api.request("GET", f"{H}/{project}/stacks/{stack[key]}/resources?x=1", token, follow_redirects=False)
    assert r.headers["location"] == f"http://127.0.0.1:8780{stack['url']}/resources?x=1"
    _heat_error(api.request("GET", f"{H}/{project}/stacks/nope", token), 404, "EntityNotFound",
                "The Stack (nope) could not be found.")
    _heat_error(api.request("GET", f"{H}/{project}/stacks/other/{stack['id']}", token), 404, "EntityNotFound")


def test_template_environment_files_outputs(api, member, stack):
    token, _ = member
    assert api.request("GET", stack["url"] + "/template", token).json()["description"] == "two test resources"
    env = api.request("GET", stack["url"] + "/environment", token).json()
    assert env["parameters"] == {"word": "hi"} and env["resource_registry"] == {"resources": {}}
    assert api.request("GET", stack["url"] + "/files", token).json() == {}
    assert api.request("GET", stack["url"] + "/outputs", token).json() == {
        "outputs": [{"output_key": "shout", "description": "the word shouted"}]}
    assert api.request("GET", stack["url"] + "/outputs/shout", token).json()["output"]["output_value"] == "hi!"
    _heat_error(api.request("GET", stack["url"] + "/outputs/nope", token), 404, "NotFound",
                "Specified output key nope not found.")


def test_resources_and_events(api, member, stack):
    token, _ = member
    rows = resources(api, token, stack["url"])
    assert rows["first"]["required_by"] == ["second"] and rows["first"]["resource_type"] == "OS::Heat::TestResource"
    shown = api.request("GET", stack["url"] + "/resources/second", token).json()["resource"]
    assert shown["attributes"] == {"output": "hi!"} and shown["resource_status"] == "CREATE_COMPLETE"
    _heat_error(api.request("GET", stack["url"] + "/resources/nope", token), 404, "ResourceNotFound")
    all_events = events(api, token, stack["url"])
    assert [e["resource_status"] for e in all_events if e["resource_name"] == "first"] == [
        "CREATE_IN_PROGRESS", "CREATE_COMPLETE"]
    done = api.request("GET", stack["url"] + "/events?resource_status=COMPLETE&limit=1&sort_dir=asc",
                       token).json()["events"]
    assert len(done) == 1 and done[0]["resource_status"].endswith("COMPLETE")
    after = api.request("GET", stack["url"] + f"/events?marker={all_events[0]['id']}", token).json()["events"]
    assert [e["id"] for e in after] == [e["id"] for e in all_events[1:]]
    event = all_events[1]
    one = api.request("GET", f"{stack['url']}/resources/{event['resource_name']}/events/{event['id']}",
                      token).json()["event"]
    assert one["id"] == event["id"] and one["resource_type"]


@pytest.mark.parametrize("template,status,kind,message", [
    ("heat_template_version: 2010-01-01\n", 400, "InvalidTemplateVersion", None),
    ("heat_template_version: 2016-10-14\nresources:\n  r: {type: OS::No::Such}\n", 400, "StackValidationFailed",
     "The Resource Type (OS::No::Such) could not be found."),
    ("heat_template_version: 2016-10-14\nresources:\n  r: {type: OS::Neutron::Net, properties: {nope: 1}}\n",
     400, "StackValidationFailed", "Property error: resources.r.properties: Unknown Property nope"),
    ("heat_template_version: 2016-10-14\nresources:\n  r: {type: OS::Neutron::Net, properties: "
     "{admin_state_up: maybe}}\n", 400, "StackValidationFailed",
     'Property error: resources.r.properties.admin_state_up: "maybe" is not a valid boolean'),
    ("heat_template_version: 2016-10-14\nresources:\n  r: {type: OS::Neutron::Subnet}\n", 400,
     "StackValidationFailed", "Property error: resources.r.properties: Property network not assigned"),
    ("heat_template_version: 2016-10-14\nresources:\n  r: {type: OS::Heat::RandomString}\noutputs:\n"
     "  o: {value: {get_attr: [r, nope]}}\n", 400, "InvalidTemplateAttribute",
     "The Referenced Attribute (r nope) is incorrect."),
    ("heat_template_version: 2016-10-14\nparameters:\n  img: {type: string, default: nope, constraints: "
     "[{custom_constraint: glance.image}]}\n", 400, "StackValidationFailed",
     "Parameter 'img' is invalid: Error validating value 'nope': The Image (nope) could not be found."),
    ("heat_template_version: 2016-10-14\nresources:\n  r: {type: OS::Nova::Server}\n", 400, "NotSupported", None),
])
def test_bad_templates_are_400_in_heats_format(api, member, template, status, kind, message):
    token, project = member
    environment = {"resource_registry": {"OS::Nova::Server": "server.yaml"}} if kind == "NotSupported" else None
    r = api.request("POST", f"{H}/{project}/stacks", token, json={
        "stack_name": unique("bad"), "template": template, **({"environment": environment} if environment else {})})
    body = _heat_error(r, status, kind, message)
    assert body["title"] == "Bad Request" and body["explanation"].startswith("The server could not comply")


def test_names_and_conflicts(api, member, stack):
    token, project = member
    _heat_error(api.request("POST", f"{H}/{project}/stacks", token, json={
        "stack_name": "1bad", "template": SIMPLE}), 400, "StackValidationFailed")
    _heat_error(api.request("POST", f"{H}/{project}/stacks", token, json={
        "stack_name": stack["name"], "template": SIMPLE}), 409, "StackExists",
        f"The Stack ({stack['name']}) already exists.")
    _heat_error(api.request("POST", f"{H}/{project}/stacks", token, json={
        "stack_name": unique("p"), "template": SIMPLE, "parameters": {"nope": 1}}), 400, "UnknownUserParameter")
    r = api.request("GET", f"{H}/{project}/stacks")
    assert r.status_code == 401


def test_registry_aliases_a_type(api, member):
    token, project = member
    template = "heat_template_version: 2016-10-14\nresources:\n  s: {type: OS::Nova::Server, properties: {x: 1}}\n"
    name = unique("alias")
    made = create_stack(api, token, project, name, template, environment={
        "resource_registry": {"OS::Nova::Server": "OS::Heat::None"}})
    url = stack_url(project, name, made["stack"]["id"])
    stack = wait_stack(api, token, url)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    # Heat shows the type as the template writes it (``Resource.type()``), whatever runs it.
    assert resources(api, token, url)["s"]["resource_type"] == "OS::Nova::Server"


def test_patch_update_keeps_parameters_and_in_place_changes(api, member):
    token, project = member
    name = unique("upd")
    made = create_stack(api, token, project, name, SIMPLE, parameters={"word": "one"})
    url = stack_url(project, name, made["stack"]["id"])
    assert wait_stack(api, token, url)["stack_status"] == "CREATE_COMPLETE"
    before = resources(api, token, url)
    r = api.request("PATCH", url, token, json={"parameters": {"word": "two"}})
    assert r.status_code == 202, r.text
    stack = wait_stack(api, token, url)
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert stack["outputs"][0]["output_value"] == "two!"
    after = resources(api, token, url)
    assert after["first"]["physical_resource_id"] == before["first"]["physical_resource_id"]  # in place
    r = api.request("PATCH", url, token, json={"template": SIMPLE.replace("value: {get_param: word}",
                                                                          "value: x, update_replace: true")})
    stack = wait_stack(api, token, url)
    assert stack["stack_status"] == "UPDATE_COMPLETE" and stack["outputs"][0]["output_value"] == "x!"
    replaced = resources(api, token, url)
    assert replaced["first"]["physical_resource_id"] != after["first"]["physical_resource_id"]


def test_update_while_in_progress_is_409(api, member):
    token, project = member
    name = unique("busy")
    template = "heat_template_version: 2016-10-14\nresources:\n  t: {type: OS::Heat::TestResource, " \
               "properties: {wait_secs: 5}}\n"
    made = create_stack(api, token, project, name, template)
    url = stack_url(project, name, made["stack"]["id"])
    _heat_error(api.request("PUT", url, token, json={"template": template}), 409, "ActionInProgress")
    assert api.request("DELETE", url, token).status_code == 204
    assert_gone(api, token, url)


def test_validate_preview_and_catalogues(api, member):
    token, project = member
    r = api.request("POST", f"{H}/{project}/validate", token, json={"template": SIMPLE})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["Description"] == "two test resources"
    assert body["Parameters"]["word"] == {"Type": "String", "Description": "a word", "Label": "word",
                                          "NoEcho": "false", "Default": "hello", "MinLength": 1}
    assert body["ParameterGroups"] == [{"label": "main", "parameters": ["word"]}]
    preview = api.request("POST", f"{H}/{project}/stacks/preview", token, json={
        "stack_name": "pre", "template": SIMPLE}).json()["stack"]
    assert {r["resource_name"]: r["required_by"] for r in preview["resources"]} == {"first": ["second"],
                                                                                     "second": []}
    types = api.request("GET", f"{H}/{project}/resource_types", token).json()["resource_types"]
    assert {"OS::Nova::Server", "OS::Neutron::Net", "OS::Cinder::Volume", "OS::Heat::RandomString"} <= set(types)
    server = api.request("GET", f"{H}/{project}/resource_types/OS::Nova::Server", token).json()
    assert server["properties"]["flavor"]["update_allowed"] is True and "first_address" in server["attributes"]
    generated = api.request("GET", f"{H}/{project}/resource_types/OS::Nova::KeyPair/template", token).json()
    assert generated["resources"]["KeyPair"]["type"] == "OS::Nova::KeyPair"
    _heat_error(api.request("GET", f"{H}/{project}/resource_types/OS::No::Such", token), 404, "EntityNotFound")
    versions = api.request("GET", f"{H}/{project}/template_versions", token).json()["template_versions"]
    assert {"version": "heat_template_version.2021-04-16", "type": "hot", "aliases": ["wallaby"]} in versions
    functions = api.request("GET", f"{H}/{project}/template_versions/heat_template_version.2016-10-14/functions"
                                   "?with_condition_func=true", token).json()["template_functions"]
    assert {"if", "map_replace", "equals", "not"} <= {f["functions"] for f in functions}
    _heat_error(api.request("GET", f"{H}/{project}/template_versions/nope/functions", token), 404, "NotFound")
    assert "revision" in api.request("GET", f"{H}/{project}/build_info", token).json()["engine"]


def test_mark_unhealthy_then_update_replaces_and_signal_is_refused(api, member):
    token, project = member
    name = unique("heal")
    made = create_stack(api, token, project, name, SIMPLE)
    url = stack_url(project, name, made["stack"]["id"])
    assert wait_stack(api, token, url)["stack_status"] == "CREATE_COMPLETE"
    before = resources(api, token, url)["first"]["physical_resource_id"]
    r = api.request("PATCH", url + "/resources/first", token, json={"mark_unhealthy": True,
                                                                    "resource_status_reason": "broken"})
    assert r.status_code == 200, r.text
    shown = api.request("GET", url + "/resources/first", token).json()["resource"]
    assert (shown["resource_status"], shown["resource_status_reason"]) == ("CHECK_FAILED", "broken")
    _heat_error(api.request("POST", url + "/resources/first/signal", token), 400, "ResourceActionNotSupported",
                "Signal is not supported for resource.")
    assert api.request("PATCH", url, token, json={}).status_code == 202
    assert wait_stack(api, token, url)["stack_status"] == "UPDATE_COMPLETE"
    after = resources(api, token, url)["first"]
    assert after["resource_status"] == "CREATE_COMPLETE" and after["physical_resource_id"] != before
    _heat_error(api.request("GET", url + "/nowhere", token), 404, "HTTPNotFound")


def test_software_configs_and_deployments(api, member):
    token, project = member
    base = f"{H}/{project}"
    config = api.request("POST", f"{base}/software_configs", token, json={
        "name": "c", "group": "script", "config": "#!/bin/sh\necho hi",
        "inputs": [{"name": "who", "default": "world"}]}).json()["software_config"]
    assert api.request("GET", f"{base}/software_configs/{config['id']}", token).json()["software_config"][
        "config"] == "#!/bin/sh\necho hi"
    deployment = api.request("POST", f"{base}/software_deployments", token, json={
        "config_id": config["id"], "server_id": "srv", "action": "CREATE",
        "input_values": {"who": "you"}}).json()["software_deployment"]
    meta = api.request("GET", f"{base}/software_deployments/metadata/srv", token).json()["metadata"]
    assert meta[0]["group"] == "script" and meta[0]["inputs"] == [{"name": "who", "default": "world", "value": "you"}]
    r = api.request("PUT", f"{base}/software_deployments/{deployment['id']}", token, json={
        "status": "COMPLETE", "output_values": {"result": "ok"}})
    assert r.json()["software_deployment"]["output_values"] == {"result": "ok"}
    _heat_error(api.request("DELETE", f"{base}/software_configs/{config['id']}", token), 400,
                "InvalidRestrictedAction")
    assert api.request("DELETE", f"{base}/software_deployments/{deployment['id']}", token).status_code == 204
    assert api.request("DELETE", f"{base}/software_configs/{config['id']}", token).status_code == 204
    _heat_error(api.request("GET", f"{base}/software_configs/{config['id']}", token), 404, "EntityNotFound")


def test_cloud_config_and_multipart_resources(api, member):
    token, project = member
    template = """
heat_template_version: 2018-08-31
resources:
  cc: {type: OS::Heat::CloudConfig, properties: {cloud_config: {packages: [nginx]}}}
  script: {type: OS::Heat::SoftwareConfig, properties: {config: "#!/bin/sh\\necho hi"}}
  mime:
    type: OS::Heat::MultipartMime
    properties: {parts: [{config: {get_resource: cc}}, {config: {get_resource: script}}]}
outputs:
  cc: {value: {get_attr: [cc, config]}}
  mime: {value: {get_attr: [mime, config]}}
"""
    name = unique("sw")
    made = create_stack(api, token, project, name, template)
    url = stack_url(project, name, made["stack"]["id"])
    stack = wait_stack(api, token, url)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    outputs = {o["output_key"]: o["output_value"] for o in stack["outputs"]}
    assert outputs["cc"] == "#cloud-config\npackages:\n- nginx\n"
    assert "packages:" in outputs["mime"] and "echo hi" in outputs["mime"] and "multipart/mixed" in outputs["mime"]
    assert api.request("DELETE", url, token).status_code == 204
    assert_gone(api, token, url)
    assert api.request("GET", f"{H}/{project}/software_configs", token).json()["software_configs"] == []


NESTED = """
heat_template_version: 2018-08-31
parameters:
  word: {type: string}
resources:
  inner: {type: OS::Heat::TestResource, properties: {value: {get_param: word}}}
outputs:
  echo: {value: {get_attr: [inner, output]}}
"""

PARENT = """
heat_template_version: 2018-08-31
parameters:
  word: {type: string, default: one}
resources:
  by_file: {type: nested.yaml, properties: {word: {get_param: word}}}
  by_registry: {type: My::Echo, properties: {word: registry}}
  inline:
    type: OS::Heat::Stack
    properties: {template: {get_file: nested.yaml}, parameters: {word: inline}}
outputs:
  by_file: {value: {get_attr: [by_file, echo]}}
  by_registry: {value: {get_attr: [by_registry, echo]}}
  inline: {value: {get_attr: [inline, outputs, echo]}}
"""


def test_nested_stacks_and_template_resources(api, member):
    token, project = member
    name = unique("nest")
    made = create_stack(api, token, project, name, PARENT, files={"nested.yaml": NESTED},
                        environment={"resource_registry": {"My::Echo": "nested.yaml"}})
    url = stack_url(project, name, made["stack"]["id"])
    stack = wait_stack(api, token, url)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    outputs = {o["output_key"]: o["output_value"] for o in stack["outputs"]}
    assert outputs == {"by_file": "one", "by_registry": "registry", "inline": "inline"}
    assert api.request("PATCH", url, token, json={"parameters": {"word": "two"}}).status_code == 202
    stack = wait_stack(api, token, url)
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert next(o for o in stack["outputs"] if o["output_key"] == "by_file")["output_value"] == "two"
    nested = {r["resource_name"]: r["physical_resource_id"] for r in resources(api, token, url).values()}
    assert api.request("DELETE", url, token).status_code == 204
    assert_gone(api, token, url)
    left = {s["id"] for s in api.request("GET", f"{H}/{project}/stacks", token).json()["stacks"]}
    assert not left & set(nested.values())
    _heat_error(api.request("POST", f"{H}/{project}/stacks", token, json={
        "stack_name": unique("nofile"), "template": PARENT}), 400, "StackValidationFailed",
        "The Resource Type (nested.yaml) could not be found.")
