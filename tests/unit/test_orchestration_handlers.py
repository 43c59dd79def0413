"""Orchestration's information handlers called directly, without a cloud: a request
built as the wrapper builds it (its declaration, a caller, the registered rules), the
handler's answer or named error checked."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import Router
from pocketstack.common.context import RequestContext
from pocketstack.common.errors import ApiError, Forbidden
from pocketstack.common.policy import Enforcer
from pocketstack.orchestration import errors
from pocketstack.orchestration.api.info import InfoApi
from pocketstack.orchestration.policies import RULES

TENANT = "p1"


@pytest.fixture(scope="module")
def enforcer():
    enforcer = Enforcer()
    enforcer.register(RULES)
    return enforcer


@pytest.fixture(scope="module")
def api():
    return InfoApi(manager=None)  # type: ignore[arg-type]  # these handlers never reach the engine


def serve(enforcer: Enforcer, handler, query: bytes = b"", project: str = TENANT, **path_params: str):
    """Call ``handler`` as the wrapper does: with its declaration, and check that it
    enforced its declared rule."""
    scope = {"type": "http", "method": "GET", "path": "/", "query_string": query,
             "path_params": {"tenant_id": TENANT, **path_params}, "headers": []}
    caller = RequestContext(user_id="u1", user_name="alice", project_id=project, project_name=project,
                            roles=["reader"])
    req = ApiRequest(Request(scope), caller, enforcer, attributes={"service_url": "http://cloud/orchestration"})
    req.route = next(r for r in Router().include(handler.__self__).routes if r.handler == handler)
    result = handler(req)
    assert req.authorized, f"{req.route.name} did not enforce {req.route.policy}"
    return result


def refused(call, *args, **kwargs) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call(*args, **kwargs)
    return caught.value


def test_resource_types_filter_by_name_and_describe_on_request(enforcer, api):
    names = serve(enforcer, api.resource_types, b"name=Cinder")["resource_types"]
    assert names and all("Cinder" in n for n in names) and "OS::Cinder::Volume" in names
    described = serve(enforcer, api.resource_types, b"name=RandomString&with_description=true")["resource_types"]
    assert [d["resource_type"] for d in described] == ["OS::Heat::RandomString"] and described[0]["description"]


def test_a_resource_type_unknown_or_hidden_is_a_named_error(enforcer, api):
    error = refused(serve, enforcer, api.resource_type, type_name="OS::No::Such")
    assert isinstance(error, errors.ResourceTypeNotFound) and error.status == 404
    assert error.message == "The Resource Type (OS::No::Such) could not be found."
    assert isinstance(refused(serve, enforcer, api.resource_type, type_name="OS::Glance::Image"), errors.NotSupported)


def test_a_generated_template_takes_every_property_as_a_parameter(enforcer, api):
    template = serve(enforcer, api.resource_template, type_name="OS::Heat::RandomString")
    assert template["heat_template_version"] == "2016-10-14"
    assert template["parameters"]["length"]["type"] == "number"
    properties = template["resources"]["RandomString"]["properties"]
    assert properties["length"] == {"get_param": "length"} and set(properties) == set(template["parameters"])


def test_template_functions_of_a_version_with_or_without_the_condition_functions(enforcer, api):
    version = "heat_template_version.2016-10-14"
    plain = {f["functions"] for f in serve(enforcer, api.template_functions, template_version=version)
             ["template_functions"]}
    with_conditions = {f["functions"] for f in serve(enforcer, api.template_functions, b"with_condition_func=true",
                                                     template_version=version)["template_functions"]}
    assert "get_param" in plain and plain < with_conditions and "equals" in with_conditions - plain
    error = refused(serve, enforcer, api.template_functions, template_version="heat_template_version.1999-01-01")
    assert isinstance(error, errors.TemplateVersionNotFound) and error.status == 404


def test_the_rule_is_enforced_on_the_project_in_the_url(enforcer, api):
    assert [v["version"] for v in serve(enforcer, api.template_versions)["template_versions"]][0] == (
        "heat_template_version.2013-05-23")
    assert isinstance(refused(serve, enforcer, api.build_info, project="p2"), Forbidden)
