"""Declared routes and the request wrapper that honours them, on a toy service: no cloud,
no database -- the handler classes are plain objects and the app a Starlette app."""

from __future__ import annotations

import dataclasses

import pytest
from starlette.testclient import TestClient

from pocketstack.common.api.app import ServiceSpec, build_app
from pocketstack.common.api.errors import fault_format
from pocketstack.common.api.microversions import Version, VersionRange
from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import Router, route, specificity
from pocketstack.common.context import RequestContext
from pocketstack.common.errors import Unauthorized
from pocketstack.common.policy import Enforcer

NAME = {"type": "object", "required": ["thing"], "additionalProperties": False,
        "properties": {"thing": {"type": "object", "required": ["name"],
                                 "properties": {"name": {"type": "string", "maxLength": 5}}}}}
NAME_V22 = {"type": "object", "required": ["thing"],
            "properties": {"thing": {"type": "object", "required": ["name"],
                                     "properties": {"name": {"type": "string", "maxLength": 10}}}}}


class ThingsApi:
    """A toy API: one of everything a declaration can say."""

    def __init__(self):
        self.things: dict[str, str] = {}

    @route.get("/things", policy="things:list")
    def index(self, req: ApiRequest):
        req.authorize(target={"project_id": req.context.project_id})
        return {"things": sorted(self.things)}

    @route.get("/things/special", policy="things:list")
    def special(self, req: ApiRequest):
        req.authorize(target={"project_id": req.context.project_id})
        return {"special": True}

    @route.get("/things/{thing_id}", policy="things:show")
    def show(self, req: ApiRequest):
        req.authorize(target={"project_id": req.context.project_id})
        return {"thing": req.path_params["thing_id"]}

    @route.post("/things", policy="things:create", status=201, body={"2.1": NAME, "2.2": NAME_V22})
    def create(self, req: ApiRequest):
        req.authorize(target={"project_id": req.context.project_id})
        self.things[req.data["thing"]["name"]] = req.context.project_id
        return {"thing": req.data["thing"]}

    @route.delete("/things/{thing_id}", policy="things:delete", status=202)
    def delete(self, req: ApiRequest):
        return None  # forgot to authorize: the wrapper must not let that through

    @route.put("/things/{thing_id}", policy="things:delete", body=NAME, authorize_first=True)
    def rename(self, req: ApiRequest):
        req.authorize()  # the body is validated here, once the rule let the caller through
        return {"thing": req.data["thing"]}

    @route.get("/hidden", policy="things:delete")
    def hidden(self, req: ApiRequest):
        # The rule as a filter: a caller it refuses sees an empty list, not a 403.
        return {"hidden": ["secret"] if req.permits() else []}

    @route.get("/legacy", until="2.1")
    @route.get("/legacy-too", until="2.1")
    def legacy(self, req: ApiRequest):
        return {"legacy": True}

    @route.get("/modern", since="2.2")
    def modern(self, req: ApiRequest):
        return {"modern": True}

    @route.get("/", public=True)
    def root(self, req: ApiRequest):
        return {"version": str(req.version)}


def validate_token(token: str) -> RequestContext:
    if token not in ("good", "admin"):
        raise Unauthorized("bad token")
    return RequestContext(user_id="u", project_id="p", roles=["member"] + (["admin"] if token == "admin" else []))


@pytest.fixture(scope="module")
def client():
    enforcer = Enforcer({"things:list": "role:member", "things:show": "role:member",
                         "things:create": "role:member", "things:delete": "role:admin"})
    spec = ServiceSpec(name="things", router=Router().include(ThingsApi()), error_format=fault_format,
                       enforcer=enforcer, validate_token=validate_token, service_url="http://x/things",
                       www_authenticate="Keystone uri=x",
                       versions=VersionRange("things", Version(2, 1), Version(2, 3)))
    with TestClient(build_app(spec)) as client:
        yield client


def call(client, method, path, version="2.1", **kw):
    headers = {"X-Auth-Token": "good", "OpenStack-API-Version": f"things {version}", **kw.pop("headers", {})}
    return client.request(method, path, headers=headers, **kw)


def test_include_collects_every_declaration_in_source_order():
    routes = Router().include(ThingsApi()).routes
    assert [(r.method, r.path) for r in routes] == [
        ("GET", "/things"), ("GET", "/things/special"), ("GET", "/things/{thing_id}"), ("POST", "/things"),
        ("DELETE", "/things/{thing_id}"), ("PUT", "/things/{thing_id}"), ("GET", "/hidden"), ("GET", "/legacy-too"),
        ("GET", "/legacy"), ("GET", "/modern"), ("GET", "/")]
    create = next(r for r in routes if r.method == "POST")
    assert create.schema_for(Version(2, 1)) is NAME and create.schema_for(Version(2, 3)) is NAME_V22
    assert create.status == 201 and create.policy == "things:create"


def test_literal_segments_are_tried_before_parameters():
    paths = ["/things/{thing_id}", "/{any:path}", "/things/special", "/things"]
    assert sorted(paths, key=specificity) == ["/things", "/things/special", "/things/{thing_id}", "/{any:path}"]


def test_declared_status_policy_and_body(client):
    r = call(client, "POST", "/things", json={"thing": {"name": "abc"}})
    assert r.status_code == 201 and r.json() == {"thing": {"name": "abc"}}
    assert call(client, "GET", "/things/special").json() == {"special": True}
    assert call(client, "GET", "/things/abc").json() == {"thing": "abc"}


def test_body_schema_follows_the_microversion(client):
    long = {"thing": {"name": "abcdefgh"}}
    assert call(client, "POST", "/things", json=long).status_code == 400
    assert call(client, "POST", "/things", version="2.2", json=long).status_code == 201
    bad = call(client, "POST", "/things", json={"thing": {"name": 5}})
    assert bad.status_code == 400 and "thing.name" in bad.json()["badRequest"]["message"]
    assert call(client, "POST", "/things").status_code == 400  # no body


def test_a_route_may_authorize_before_its_body_is_validated(client):
    """``authorize_first``: a 403 before a 400, where the real service checks its rule
    first; the body is still validated against the declared schema before use."""
    bad, good = {"thing": {"name": 5}}, {"thing": {"name": "abc"}}
    assert call(client, "PUT", "/things/x", json=bad).status_code == 403  # a member: refused first
    admin = {"X-Auth-Token": "admin"}
    r = call(client, "PUT", "/things/x", json=bad, headers=admin)
    assert r.status_code == 400 and "thing.name" in r.json()["badRequest"]["message"]
    assert call(client, "PUT", "/things/x", json=good, headers=admin).json() == good
    with pytest.raises(ValueError, match="authorize_first"):
        route.put("/x", body=NAME, authorize_first=True)  # no policy to enforce first


def test_routes_outside_their_microversion_range_are_404(client):
    assert call(client, "GET", "/legacy").status_code == 200
    assert call(client, "GET", "/legacy-too").status_code == 200
    assert call(client, "GET", "/legacy", version="2.2").status_code == 404
    assert call(client, "GET", "/modern").status_code == 404
    assert call(client, "GET", "/modern", version="2.3").json() == {"modern": True}
    assert call(client, "GET", "/", version="2.3").json() == {"version": "2.3"}
    assert call(client, "GET", "/", version="2.9").status_code == 406


def test_a_declared_policy_that_was_not_enforced_fails_the_request(client):
    r = call(client, "DELETE", "/things/abc")
    assert r.status_code == 500
    assert r.json()["computeFault"]["message"].startswith("An unexpected error")


def test_a_policy_used_as_a_filter_counts_as_enforced(client):
    r = call(client, "GET", "/hidden")
    assert r.status_code == 200 and r.json() == {"hidden": []}  # a member is refused "things:delete"


def test_public_routes_need_no_token_and_others_do(client):
    assert client.get("/").status_code == 200
    r = client.get("/things")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Keystone uri=x"


def test_openapi_description_follows_the_declarations(client):
    newest = client.get("/openapi.json").json()
    assert newest["openapi"] == "3.1.0" and newest["info"]["version"] == "2.3"
    assert "/modern" in newest["paths"] and "/legacy" not in newest["paths"]
    create = newest["paths"]["/things"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == NAME_V22
    assert create["responses"].keys() == {"201", "default"}
    assert create["security"] == [{"token": []}] and create["x-openstack-policy"] == "things:create"
    assert [p["name"] for p in newest["paths"]["/things/{thing_id}"]["get"]["parameters"]] == [
        "thing_id", "OpenStack-API-Version"]
    assert "security" not in newest["paths"]["/"]["get"]
    oldest = client.get("/openapi.json?microversion=2.1").json()
    assert "/legacy" in oldest["paths"] and "/modern" not in oldest["paths"]
    assert oldest["paths"]["/things"]["post"]["requestBody"]["content"]["application/json"]["schema"] == NAME
    assert client.get("/openapi.json?microversion=7.0").status_code == 406


def test_a_json_null_body_is_validated_like_any_other(client):
    r = call(client, "POST", "/things", content=b"null", headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text


def test_one_handler_class_serves_several_prefixes():
    class Collection:
        def __init__(self, name):
            self.name = name

        @route.get("")
        def index(self, req):
            return {self.name: []}

        @route.get("/{item_id}")
        def show(self, req):
            return {self.name[:-1]: req.path_params["item_id"]}

    router = Router().include(Collection("networks"), prefix="/v2.0/networks")
    router.include(Collection("ports"), prefix="/v2.0/ports")
    assert [(r.path, r.handler.__self__.name) for r in router.routes] == [
        ("/v2.0/networks", "networks"), ("/v2.0/networks/{item_id}", "networks"),
        ("/v2.0/ports", "ports"), ("/v2.0/ports/{item_id}", "ports")]


def test_a_shared_handler_class_adapts_its_routes_to_each_collection():
    class Collection:
        def __init__(self, member):
            self.member = member

        def adapt_route(self, spec):
            return dataclasses.replace(spec, policy=spec.policy.format(member=self.member),
                                       path=spec.path.replace("{id}", "{%s_id}" % self.member))

        @route.get("/{id}", policy="get_{member}")
        def show(self, req):
            return {}

    router = Router().include(Collection("network"), prefix="/networks").include(Collection("port"), prefix="/ports")
    assert [(r.path, r.policy) for r in router.routes] == [
        ("/networks/{network_id}", "get_network"), ("/ports/{port_id}", "get_port")]
