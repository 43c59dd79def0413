"""Identity without a cloud: the request parsing the handlers use, the routes the entity
families mount, and the handlers themselves on a real Identity over a temporary SQLite
database (the policy order Keystone keeps: 403 before 400, 403 before 404)."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlencode

import pytest
from starlette.requests import Request

from pocketstack.common import config
from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import RouteSpec
from pocketstack.common.context import RequestContext
from pocketstack.common.db import Database
from pocketstack.common.db.migrate import upgrade
from pocketstack.common.policy import Enforcer
from pocketstack.identity import errors
from pocketstack.identity.api import build_router
from pocketstack.identity.api.auth import TokensApi
from pocketstack.identity.api.catalog import legacy_region
from pocketstack.identity.api.common import filters, split_extra
from pocketstack.identity.api.entities import EntityApi
from pocketstack.identity.api.resources import ProjectTagsApi, nest
from pocketstack.identity.api.roles import assignment_filters
from pocketstack.identity.api.users import parse_expiry, users
from pocketstack.identity.bootstrap import bootstrap
from pocketstack.identity.manager import Identity
from pocketstack.identity.policies import RULES

BASE = "http://127.0.0.1:8780/identity"
# The declarations served, once the identity fixture has built them: a request carries
# its route's declared policy, as the request wrapper hands it over.
ROUTES: list[RouteSpec] = []


def request(enforcer: Enforcer | None, method: str, path: str, context: RequestContext | None = None, *,
            body: object = None, query: dict[str, str] | None = None, headers: dict[str, str] | None = None,
            **path_params: str) -> ApiRequest:
    """A request for the route declared at ``method path`` (a template, as declared)."""
    scope = {"type": "http", "method": method, "path": path, "query_string": urlencode(query or {}).encode(),
             "path_params": path_params,
             "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]}
    raw = b"" if body is None else json.dumps(body).encode()
    served = next((r for r in ROUTES if r.method == method and r.path == path), None)
    return ApiRequest(Request(scope), context, enforcer or Enforcer(), body=raw, route=served,
                      attributes={"service_url": BASE})


# -- request parsing --------------------------------------------------------------------------
def test_parse_expiry_stores_naive_utc():
    assert parse_expiry(None) is None and parse_expiry("") is None
    assert parse_expiry("2030-01-02T03:04:05Z") == dt.datetime(2030, 1, 2, 3, 4, 5)
    assert parse_expiry("2030-01-02T05:04:05+02:00") == dt.datetime(2030, 1, 2, 3, 4, 5)
    with pytest.raises(errors.InvalidInput) as raised:
        parse_expiry("tomorrow")
    assert (raised.value.status, raised.value.message) == (
        400, "Invalid input for field 'expires_at': 'tomorrow' is not an ISO 8601 time.")


def test_assignment_filters():
    wanted = assignment_filters({"user.id": "u", "scope.project.id": "p", "include_subtree": "true",
                                 "scope.OS-INHERIT:inherited_to": "projects", "effective": ""})
    assert wanted == {"user_id": "u", "group_id": None, "role_id": None, "project_id": "p", "domain_id": None,
                      "system": False, "inherited": True, "effective": True, "include_subtree": True,
                      "include_names": False}
    assert assignment_filters({"scope.system": "all"})["system"] is True
    with pytest.raises(errors.SubtreeNeedsProject) as raised:
        assignment_filters({"include_subtree": "1"})
    assert raised.value.message == "scope.project.id needs to be specified if include_subtree is also specified."
    with pytest.raises(errors.EffectiveWithGroup) as raised:
        assignment_filters({"effective": "", "group.id": "g"})
    assert raised.value.message == "Combining effective and group filter will always result in an empty list."
    with pytest.raises(errors.BadRequest):
        assignment_filters({"effective": "maybe"})


def test_filters_and_extra_attributes():
    req = request(None, "GET", "/v3/users", query={"name": "a", "enabled": "false", "other": "x"})
    assert filters(req, ("name", "domain_id", "enabled")) == {"name": "a", "enabled": False}
    with pytest.raises(errors.BadRequest):
        filters(request(None, "GET", "/v3/users", query={"enabled": "perhaps"}), ("enabled",))
    assert split_extra({"name": "a", "email": "a@b"}, {"name"}) == ({"name": "a"}, {"email": "a@b"})


def test_subtree_as_ids_nests_children():
    class P:
        def __init__(self, id, parent_id):
            self.id, self.parent_id = id, parent_id

    assert nest("root", [P("a", "root"), P("b", "a"), P("c", "root")]) == {"a": {"b": None}, "c": None}
    assert nest("leaf", []) is None


# -- a real Identity ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def identity(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("identity")
    settings = config.load(overrides={"data_dir": data_dir, "database_url": f"sqlite:///{data_dir}/db.sqlite",
                                      "bcrypt_rounds": 4}, environ={})
    db = Database(settings.effective_database_url)
    upgrade(db.engine)
    identity = Identity(db, settings)
    bootstrap(identity, admin_password="secret", demo_password="demo", region="RegionOne", services=[])
    ROUTES[:] = build_router(identity).routes
    yield identity
    db.dispose()


@pytest.fixture(scope="module")
def enforcer():
    enforcer = Enforcer()
    enforcer.register(RULES)
    return enforcer


def admin() -> RequestContext:
    return RequestContext(user_id="admin-id", project_id="p-admin", roles=["admin", "member", "reader"])


def member(user_id: str = "someone") -> RequestContext:
    return RequestContext(user_id=user_id, project_id="p1", roles=["member", "reader"])


def routed(router, method: str, path: str) -> RouteSpec:
    return next(r for r in router.routes if r.method == method and r.path == path)


def test_entity_families_mount_with_their_own_rules_and_parameters(identity):
    router = build_router(identity)
    assert routed(router, "GET", "/v3/users/{user_id}").policy == "identity:get_user"
    assert routed(router, "GET", "/v3/projects").policy == "identity:list_projects"
    assert routed(router, "PATCH", "/v3/regions/{region_id}").policy == "identity:manage_regions"
    assert routed(router, "DELETE", "/v3/endpoints/{endpoint_id}").policy == "identity:manage_endpoints"
    assert routed(router, "PUT", "/v3/OS-INHERIT/projects/{scope_id}/users/{actor_id}/roles/{role_id}"
                                 "/inherited_to_projects").policy == "identity:create_grant"
    assert routed(router, "GET", "/v3/system/groups/{actor_id}/roles").policy == "identity:list_grants"
    # Every declared rule is one Identity registers, with a description.
    documented = {rule.name: rule for rule in RULES}
    assert all(documented[r.policy].description for r in router.routes if r.policy)
    # One path and method is served once.
    keys = [(r.method, r.path) for r in router.routes]
    assert len(keys) == len(set(keys))


def test_user_crud_through_the_entity_handlers(identity, enforcer):
    api = EntityApi(users(identity))
    created = api.create(request(enforcer, "POST", "/v3/users", admin(),
                                 body={"user": {"name": "unit-alice", "email": "a@example.org"}}))
    assert created.status_code == 201
    user = json.loads(created.body)["user"]
    assert user["email"] == "a@example.org" and user["links"]["self"] == f"{BASE}/v3/users/{user['id']}"

    def show(context):
        return api.show(request(enforcer, "GET", "/v3/users/{user_id}", context, user_id=user["id"]))

    assert show(admin())["user"]["name"] == "unit-alice"
    assert show(member(user["id"]))["user"]["id"] == user["id"]  # one's own user
    with pytest.raises(errors.Forbidden):
        show(member())
    updated = api.update(request(enforcer, "PATCH", "/v3/users/{user_id}", admin(), body={"user": {"team": "blue"}},
                                 user_id=user["id"]))
    assert updated["user"]["team"] == "blue" and updated["user"]["email"] == "a@example.org"
    listed = api.index(request(enforcer, "GET", "/v3/users", admin(), query={"name": "unit-alice"}))
    assert [u["id"] for u in listed["users"]] == [user["id"]]
    assert api.delete(request(enforcer, "DELETE", "/v3/users/{user_id}", admin(), user_id=user["id"])) is None
    with pytest.raises(errors.UserNotFound) as raised:
        show(admin())
    assert raised.value.message == f"Could not find user: {user['id']}."


def test_policy_is_checked_before_the_body_and_the_lookup(identity, enforcer):
    api = EntityApi(users(identity))
    with pytest.raises(errors.Forbidden):  # not a 400 for the bad body
        api.create(request(enforcer, "POST", "/v3/users", member(), body={"user": {"name": ""}}))
    with pytest.raises(errors.Forbidden):  # not a 404 for the missing user
        api.show(request(enforcer, "GET", "/v3/users/{user_id}", member(), user_id="no-such-user"))
    with pytest.raises(errors.BadRequest) as raised:
        api.create(request(enforcer, "POST", "/v3/users", admin(), body={"user": {"name": ""}}))
    assert raised.value.message.startswith("Invalid input for field 'user.name'")


def test_duplicate_user_keeps_keystones_wording(identity, enforcer):
    api = EntityApi(users(identity))
    body = {"user": {"name": "unit-twin", "domain_id": "default"}}
    api.create(request(enforcer, "POST", "/v3/users", admin(), body=body))
    with pytest.raises(errors.DuplicateEntry) as raised:
        api.create(request(enforcer, "POST", "/v3/users", admin(), body=body))
    assert (raised.value.status, raised.value.message) == (
        409, "Conflict occurred attempting to store user - Duplicate entry found with name unit-twin at "
             "domain ID default.")


def test_project_tag_location_is_percent_encoded(identity, enforcer):
    project = identity.resource.create_project(name="unit-tags", domain_id="default")
    api = ProjectTagsApi(identity)
    tag = "/v3/projects/{project_id}/tags/{tag}"
    added = api.add(request(enforcer, "PUT", tag, admin(), project_id=project.id, tag="été"))
    assert added.status_code == 201
    assert added.headers["location"] == f"{BASE}/v3/projects/{project.id}/tags/%C3%A9t%C3%A9"
    assert api.index(request(enforcer, "GET", "/v3/projects/{project_id}/tags", admin(), project_id=project.id)) == {
        "tags": ["été"]}
    with pytest.raises(errors.TagNotFound) as raised:
        api.check(request(enforcer, "GET", tag, admin(), project_id=project.id, tag="none"))
    assert raised.value.message == f"Tag none not found on project {project.id}."


def test_legacy_region_is_created_for_an_endpoint(identity):
    own = legacy_region(identity.catalog, {"region": "unit-legacy", "url": "http://x"})
    assert own == {"region_id": "unit-legacy", "url": "http://x"}
    assert identity.catalog.get_region("unit-legacy").id == "unit-legacy"
    assert legacy_region(identity.catalog, {"region": "unit-legacy"}) == {"region_id": "unit-legacy"}  # exists
    assert legacy_region(identity.catalog, {"region": "ignored", "region_id": "r"}) == {"region_id": "r"}


def test_token_handlers(identity, enforcer):
    api = TokensApi(identity)
    issue = request(enforcer, "POST", "/v3/auth/tokens", None, query={"nocatalog": ""})
    issue.data = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": "secret"}}}}}
    issued = api.issue(issue)
    assert issued.status_code == 201 and "catalog" not in json.loads(issued.body)["token"]
    token = issued.headers["x-subject-token"]
    checked = api.check(request(enforcer, "HEAD", "/v3/auth/tokens", admin(), headers={"X-Subject-Token": token}))
    assert checked.status_code == 200 and checked.headers["x-subject-token"] == token
    with pytest.raises(errors.SubjectTokenMissing) as raised:
        api.check(request(enforcer, "HEAD", "/v3/auth/tokens", admin()))
    assert raised.value.message == "Could not find token: X-Subject-Token header is missing."
    api.revoke(request(enforcer, "DELETE", "/v3/auth/tokens", admin(), headers={"X-Subject-Token": token}))
    with pytest.raises(errors.TokenNotValid) as raised:
        api.check(request(enforcer, "HEAD", "/v3/auth/tokens", admin(), headers={"X-Subject-Token": token}))
    assert raised.value.message == "The token has been revoked."


def test_validate_token_is_the_contract(identity):
    with pytest.raises(errors.AuthenticationRequired) as raised:
        identity.validate_token("not-a-token")
    assert (raised.value.status, raised.value.message) == (401, "The request you have made requires authentication.")
