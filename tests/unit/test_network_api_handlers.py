"""The Networking API without a cloud: the request parsing the handlers use, the route
declarations (one ``ResourceApi`` per collection, its rules named for its member), and
the handlers themselves on a real manager over a SQLite database, with the policy
defaults of ``policies.RULES``."""

from __future__ import annotations

import json

import pytest
from starlette.datastructures import QueryParams
from starlette.requests import Request

from pocketstack.common import config
from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import Router, RouteSpec
from pocketstack.common.context import RequestContext
from pocketstack.common.db import Database
from pocketstack.common.db.migrate import upgrade
from pocketstack.common.errors import ApiError
from pocketstack.common.policy import Enforcer
from pocketstack.network import errors
from pocketstack.network.api import build_router, inputs, network_format, render
from pocketstack.network.api.agents import AgentsApi, changes, matches
from pocketstack.network.api.resources import RESOURCES, UNTAGGED, ResourceApi, ResourceTagsApi
from pocketstack.network.api.schemas import SCHEMAS
from pocketstack.network.api.subresources import quota_values
from pocketstack.network.context import Env
from pocketstack.network.drivers.noop import NoopDriver
from pocketstack.network.manager import NetworkManager
from pocketstack.network.policies import RULES
from pocketstack.network.segments import SegmentConfig


# -- request parsing --------------------------------------------------------------------------
def test_agent_filters_match_case_insensitively_and_repeat():
    agent = {"id": "a1", "agent_type": "Open vSwitch agent", "binary": "b", "topic": "t", "host": "Node1",
             "admin_state_up": True, "alive": False, "description": ""}
    assert matches(agent, QueryParams([("host", "node1")]))
    assert matches(agent, QueryParams([("host", "other"), ("host", "NODE1"), ("alive", "false")]))
    assert not matches(agent, QueryParams([("admin_state_up", "false")]))


@pytest.mark.parametrize("body,message", [
    ({}, "Resource body required"),
    ({"agent": "x"}, "Resource body required"),
    ({"agent": {"host": "h"}}, "Invalid input for operation: Attribute 'host' not allowed in PUT."),
    ({"agent": {"admin_state_up": "yes"}}, "Invalid input for operation: 'yes' is not a valid value for "
                                           "admin_state_up."),
    ({"agent": {"description": "d" * 256}}, f"Invalid input for operation: '{'d' * 256}' is not a valid value "
                                            "for description."),
])
def test_agent_changes_refusals(body, message):
    with pytest.raises(ApiError) as raised:
        changes(body)
    assert (raised.value.status, raised.value.message) == (400, message)


def test_agent_changes_accepts_the_two_updatable_attributes():
    assert changes({"agent": {"admin_state_up": False, "description": "x"}}) == {
        "admin_state_up": False, "description": "x"}


def test_quota_values_take_integers_and_their_strings():
    assert quota_values({"quota": {"network": "5", "port": -1}}) == {"network": 5, "port": -1}


@pytest.mark.parametrize("quota,status,error_type", [
    ({"gadget": 1}, 400, "InvalidInput"),
    ({"network": -2}, 400, "HTTPBadRequest"),
    ({"network": "many"}, 400, "InvalidInput"),
])
def test_quota_values_refusals(quota, status, error_type):
    with pytest.raises(ApiError) as raised:
        quota_values({"quota": quota})
    assert (raised.value.status, raised.value.error_type) == (status, error_type)


def test_body_validator_refuses_a_nul_before_the_schema():
    schema = {"type": "object", "properties": {"network": {"type": "object", "properties": {"name": {
        "type": "string", "maxLength": 3}}}}}
    with pytest.raises(ApiError) as raised:
        inputs.validate_body({"network": {"name": "long\x00name"}}, schema)
    assert raised.value.message == "Invalid input for name. Reason: the string has a NUL character."
    with pytest.raises(ApiError) as raised:
        inputs.validate_body({"network": {"name": "long"}}, schema)
    assert raised.value.message.startswith("Invalid input for field 'network.name'")


def test_if_match_revision_reads_neutrons_header():
    def req(value: str) -> ApiRequest:
        return request(Enforcer(), "PUT", "/v2.0/networks/x", None, headers={"if-match": value})
    assert render.if_match_revision(req("revision_number=4")) == 4
    assert render.if_match_revision(req("etag, revision_number=7")) == 7
    assert render.if_match_revision(req("revision_number=x")) is None


# -- declarations -------------------------------------------------------------------------------
def test_each_collection_gets_its_own_rules():
    router = Router()
    for collection in ("networks", "security-groups"):
        router.include(ResourceApi(None, collection), ResourceTagsApi(None, collection),  # type: ignore[arg-type]
                       prefix=f"/v2.0/{collection}")
    declared = {(r.method, r.path): r.policy for r in router.routes}
    assert declared[("GET", "/v2.0/networks")] == "get_network"
    assert declared[("PUT", "/v2.0/networks/{resource_id}")] == "update_network"
    assert declared[("DELETE", "/v2.0/security-groups/{resource_id}")] == "delete_security_group"
    assert declared[("PUT", "/v2.0/security-groups/{resource_id}/tags/{tag}")] == "create_tags"
    assert declared[("GET", "/v2.0/security-groups/{resource_id}/tags")] == "get_security_group"
    # An update's body is the member's schema, validated before the handler runs.
    update = next(r for r in router.routes if (r.method, r.path) == ("PUT", "/v2.0/networks/{resource_id}"))
    assert update.schema_for(None) == SCHEMAS[("network", False)]
    assert "network" in update.schema_for(None)["properties"]


def test_collections_without_standard_attributes_have_no_tags():
    """Address scopes and RBAC policies: CRUD routes, no tag routes of their own (their tag
    URLs fall to UntaggableApi's 404, as in Neutron)."""
    paths = {r.path for r in build_router(None, None).routes}  # type: ignore[arg-type]
    for collection in UNTAGGED:
        assert f"/v2.0/{collection}/{{resource_id}}" in paths
        assert f"/v2.0/{collection}/{{resource_id}}/tags" not in paths
    assert "/v2.0/networks/{resource_id}/tags" in paths


def test_every_declared_rule_is_a_documented_default():
    router = build_router(None, None)  # type: ignore[arg-type]
    documented = {rule.name for rule in RULES}
    declared = {r.policy for r in router.routes if r.policy}
    assert declared <= documented
    assert all(rule.description for rule in RULES)
    # Every collection, every verb: nothing but discovery goes without a rule.
    assert {(r.method, r.path) for r in router.routes if not r.policy and not r.public} == {
        ("GET", "/v2.0/extensions"), ("GET", "/v2.0/extensions/{alias}"),
        *{(m, "/v2.0/{collection}/{resource_id}/tags" + tail) for m in ("GET", "PUT", "DELETE")
          for tail in ("", "/{tag}")}}
    assert len([r for r in router.routes if r.path == "/v2.0/ports/{resource_id}"]) == 3


# -- handlers on a real database -----------------------------------------------------------------
@pytest.fixture(scope="module")
def manager(tmp_path_factory):
    folder = tmp_path_factory.mktemp("network")
    settings = config.load(overrides={"data_dir": folder}, environ={})
    db = Database(f"sqlite:///{folder}/network.db")
    upgrade(db.engine)
    yield NetworkManager(Env(db=db, driver=NoopDriver(), segments=SegmentConfig.from_settings(settings)))
    db.dispose()


@pytest.fixture(scope="module")
def enforcer():
    enforcer = Enforcer()
    enforcer.register(RULES)
    return enforcer


@pytest.fixture(scope="module")
def router(manager):
    return build_router(manager, None)  # type: ignore[arg-type]


def request(enforcer: Enforcer, method: str, path: str, context: RequestContext | None, *,
            headers: dict[str, str] | None = None, query: str = "", body: object = None,
            spec: RouteSpec | None = None, **path_params: str) -> ApiRequest:
    scope = {"type": "http", "method": method, "path": path, "query_string": query.encode(),
             "path_params": path_params, "server": ("network.test", 80), "scheme": "http",
             "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]}
    raw = json.dumps(body).encode() if body is not None else b""
    return ApiRequest(Request(scope), context, enforcer, body=raw, route=spec,
                      attributes={"service_path": "/network"})


def call(router: Router, enforcer: Enforcer, method: str, template: str, context: RequestContext | None,
         body: object = None, query: str = "", **path_params: str):
    """Serve one request as the wrapper would: the declared body validated with the
    service's validator, the handler called, its declared policy enforced."""
    spec = next(r for r in router.routes if (r.method, r.path) == (method, template))
    req = request(enforcer, method, template.format(**path_params), context, body=body, query=query, spec=spec,
                  **path_params)
    schema = spec.schema_for(None)
    if schema is not None:
        req.data = inputs.validate_body(req.json(), schema)
    result = spec.handler(req)
    assert not spec.policy or req.authorized, f"{spec.name} did not enforce {spec.policy}"
    if hasattr(result, "body"):
        return result.status_code, json.loads(result.body) if result.body else None
    return spec.status or (200 if result is not None else 204), result


def caller(*roles: str, project: str = "p1") -> RequestContext:
    return RequestContext(user_id="u1", user_name="alice", project_id=project, project_name="proj", roles=list(roles))


MEMBER = caller("member", "reader")
READER = caller("reader", project="p1")
STRANGER = caller("member", "reader", project="p2")
ADMIN = caller("admin", "member", "reader", project="admin")


def test_network_lifecycle_through_the_handlers(router, enforcer):
    status, body = call(router, enforcer, "POST", "/v2.0/networks", MEMBER, {"network": {"name": "n1"}})
    assert status == 201 and body["network"]["name"] == "n1" and body["network"]["project_id"] == "p1"
    net_id = body["network"]["id"]
    # The provider attributes are operator-only: hidden from the owner.
    assert "provider:network_type" not in body["network"]

    status, body = call(router, enforcer, "GET", "/v2.0/networks/{resource_id}", READER, resource_id=net_id)
    assert (status, body["network"]["id"]) == (200, net_id)
    status, body = call(router, enforcer, "GET", "/v2.0/networks", MEMBER, query="fields=id&fields=name")
    assert {"id": net_id, "name": "n1"} in body["networks"]

    status, body = call(router, enforcer, "PUT", "/v2.0/networks/{resource_id}", MEMBER,
                        {"network": {"name": "renamed", "project_id": "p1"}}, resource_id=net_id)
    assert (status, body["network"]["name"]) == (200, "renamed")

    status, body = call(router, enforcer, "PUT", "/v2.0/networks/{resource_id}/tags/{tag}", MEMBER,
                        resource_id=net_id, tag="blue")
    assert status == 201
    status, body = call(router, enforcer, "GET", "/v2.0/networks/{resource_id}/tags", READER, resource_id=net_id)
    assert body == {"tags": ["blue"]}
    status, body = call(router, enforcer, "PUT", "/v2.0/networks/{resource_id}/tags", MEMBER,
                        {"tags": ["a", "b"]}, resource_id=net_id)
    assert sorted(body["tags"]) == ["a", "b"]
    with pytest.raises(ApiError) as raised:
        call(router, enforcer, "GET", "/v2.0/networks/{resource_id}/tags/{tag}", READER, resource_id=net_id,
             tag="blue")
    assert (raised.value.status, raised.value.error_type, raised.value.message) == (
        404, "TagNotFound", "Tag blue could not be found.")

    status, _ = call(router, enforcer, "DELETE", "/v2.0/networks/{resource_id}", MEMBER, resource_id=net_id)
    assert status == 204
    with pytest.raises(ApiError) as raised:
        call(router, enforcer, "GET", "/v2.0/networks/{resource_id}", MEMBER, resource_id=net_id)
    assert (raised.value.status, raised.value.error_type, raised.value.message) == (
        404, "NetworkNotFound", f"Network {net_id} could not be found.")


def test_bulk_create_is_all_or_nothing(router, enforcer, manager):
    status, body = call(router, enforcer, "POST", "/v2.0/networks", MEMBER,
                        {"networks": [{"name": "b1"}, {"name": "b2"}]})
    assert status == 201 and [n["name"] for n in body["networks"]] == ["b1", "b2"]
    with pytest.raises(ApiError) as raised:  # the second item asks for an admin-only attribute
        call(router, enforcer, "POST", "/v2.0/networks", MEMBER,
             {"networks": [{"name": "b3"}, {"name": "b4", "shared": True}]})
    assert raised.value.status == 403
    names = {n["name"] for n in manager.list(MEMBER, "networks", QueryParams())[0]}
    assert "b3" not in names


def test_readers_and_strangers_are_refused(router, enforcer):
    with pytest.raises(ApiError) as raised:
        call(router, enforcer, "POST", "/v2.0/networks", READER, {"network": {"name": "r"}})
    assert (raised.value.status, raised.value.message) == (
        403, "You are not authorized to perform the requested action: create_network.")
    _, body = call(router, enforcer, "POST", "/v2.0/networks", MEMBER, {"network": {"name": "mine"}})
    with pytest.raises(ApiError) as raised:  # another project's network is not even visible
        call(router, enforcer, "DELETE", "/v2.0/networks/{resource_id}", STRANGER,
             resource_id=body["network"]["id"])
    assert raised.value.status == 404


def test_a_subnet_on_another_projects_network_is_refused_by_policy(router, enforcer):
    _, body = call(router, enforcer, "POST", "/v2.0/networks", MEMBER, {"network": {"name": "owned"}})
    with pytest.raises(ApiError) as raised:
        call(router, enforcer, "POST", "/v2.0/subnets", STRANGER,
             {"subnet": {"network_id": body["network"]["id"], "ip_version": 4, "cidr": "10.9.0.0/24"}})
    assert (raised.value.status, raised.value.message) == (
        403, "You are not authorized to perform the requested action: create_subnet.")


def test_security_group_rules_through_the_handlers(router, enforcer):
    _, body = call(router, enforcer, "POST", "/v2.0/security-groups", MEMBER, {"security_group": {"name": "web"}})
    group_id = body["security_group"]["id"]
    status, body = call(router, enforcer, "POST", "/v2.0/security-group-rules", MEMBER, {"security_group_rule": {
        "security_group_id": group_id, "direction": "ingress", "protocol": "tcp", "port_range_min": 80,
        "port_range_max": 80}})
    assert status == 201 and body["security_group_rule"]["port_range_min"] == 80
    rule_id = body["security_group_rule"]["id"]
    with pytest.raises(ApiError) as raised:  # a rule in another project's group
        call(router, enforcer, "POST", "/v2.0/security-group-rules", STRANGER, {"security_group_rule": {
            "security_group_id": group_id, "direction": "egress"}})
    assert raised.value.status == 403
    status, _ = call(router, enforcer, "DELETE", "/v2.0/security-group-rules/{rule_id}", MEMBER, rule_id=rule_id)
    assert status == 204
    with pytest.raises(ApiError) as raised:
        call(router, enforcer, "GET", "/v2.0/security-group-rules/{rule_id}", MEMBER, rule_id=rule_id)
    assert (raised.value.error_type, raised.value.message) == (
        "SecurityGroupRuleNotFound", f"Security group rule {rule_id} does not exist")


def test_quotas_through_the_handlers(router, enforcer):
    with pytest.raises(ApiError) as raised:  # policy first: a member learns nothing of the body
        call(router, enforcer, "PUT", "/v2.0/quotas/{project_id}", MEMBER, {"quota": {"gadget": 1}},
             project_id="p1")
    assert raised.value.status == 403
    status, body = call(router, enforcer, "PUT", "/v2.0/quotas/{project_id}", ADMIN, {"quota": {"network": 7}},
                        project_id="p9")
    assert (status, body["quota"]["network"]) == (200, 7)
    _, body = call(router, enforcer, "GET", "/v2.0/quotas/{project_id}/details.json", ADMIN, project_id="p9")
    assert body["quota"]["network"] == {"limit": 7, "used": 0, "reserved": 0}
    _, body = call(router, enforcer, "GET", "/v2.0/quotas", ADMIN)
    assert any(q["project_id"] == "p9" for q in body["quotas"])
    status, _ = call(router, enforcer, "DELETE", "/v2.0/quotas/{project_id}", ADMIN, project_id="p9")
    assert status == 204


def test_tags_of_an_untaggable_collection_are_a_neutron_404(router, enforcer):
    with pytest.raises(ApiError) as raised:
        call(router, enforcer, "GET", "/v2.0/{collection}/{resource_id}/tags", MEMBER, collection="agents",
             resource_id="x")
    assert (raised.value.status, raised.value.error_type, raised.value.message) == (
        404, "ResourceNotFound", "Resource agents could not be found.")


def test_agents_are_invisible_to_non_admins(enforcer):
    router = Router().include(AgentsApi(None))  # type: ignore[arg-type]  # never reached
    assert call(router, enforcer, "GET", "/v2.0/agents", MEMBER) == (200, {"agents": []})
    for method in ("GET", "PUT", "DELETE"):
        with pytest.raises(ApiError) as raised:
            call(router, enforcer, method, "/v2.0/agents/{agent_id}", MEMBER, {"agent": {}}, agent_id="a1")
        assert (raised.value.status, raised.value.error_type, raised.value.message) == (
            404, "AgentNotFound", "Agent a1 could not be found.")


def test_resources_table_covers_the_discovered_collections():
    from pocketstack.network.api.discovery import RESOURCES as DISCOVERED

    assert set(RESOURCES) | {"security-group-rules", "qos/rule-types"} == {collection for _, collection in DISCOVERED}


# -- named errors: Neutron's types and wording ----------------------------------------------------
@pytest.mark.parametrize("error,status,error_type,message", [
    (errors.NetworkNotFound(id="n1"), 404, "NetworkNotFound", "Network n1 could not be found."),
    (errors.RouterNotFound(id="r1"), 404, "RouterNotFound", "Router r1 could not be found"),
    (errors.SecurityGroupNotFound(id="g1"), 404, "SecurityGroupNotFound", "Security group g1 does not exist"),
    (errors.InvalidInput(error_message="'x' is not an integer"), 400, "InvalidInput",
     "Invalid input for operation: 'x' is not an integer."),
    (errors.BadRouterRequest(msg="Subnet s1 does not have a gateway IP"), 400, "BadRequest",
     "Bad router request: Subnet s1 does not have a gateway IP."),
    (errors.InvalidAttribute(attribute="network", reason="'-2' is too small"), 400, "HTTPBadRequest",
     "Invalid input for network. Reason: '-2' is too small."),
    (errors.InvalidCIDRForVersion(input="10.0.0.0/8", version=6), 400, "InvalidCIDR",
     "Invalid CIDR 10.0.0.0/8 for IP version 6."),
    (errors.IpAddressGenerationFailure(net_id="n1"), 409, "IpAddressGenerationFailure",
     "No more IP addresses available on network n1."),
    (errors.OverQuota(overs="port"), 409, "OverQuota", "Quota exceeded for resources: ['port']."),
    (errors.InsufficientPrefixSpace(prefixlen=24), 409, "SubnetAllocationError",
     "Insufficient prefix space to allocate subnet size /24."),
    (errors.ExternalNetworkAttachForbidden(network_uuid="n1"), 403, "PolicyNotAuthorized",
     "It is not allowed to create an interface on external network n1"),
    (errors.RevisionNumberConstraintFailed(), 412, "RevisionNumberConstraintFailed",
     "Constrained to revision_number mismatch."),
])
def test_named_errors_keep_neutrons_type_and_wording(error, status, error_type, message):
    rendered = json.loads(network_format(error).body)
    assert rendered == {"NeutronError": {"type": error_type, "message": message, "detail": ""}}
    assert error.status == status


def test_generic_errors_take_webobs_names():
    from pocketstack.common.errors import BadRequest, Forbidden

    assert json.loads(network_format(BadRequest("x")).body)["NeutronError"]["type"] == "HTTPBadRequest"
    assert json.loads(network_format(Forbidden("x")).body)["NeutronError"]["type"] == "PolicyNotAuthorized"
