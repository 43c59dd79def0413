"""OAuth 1.0a delegation (OS-OAUTH1) through the Keystone v3 API: consumer CRUD, the
three signed legs and the ``oauth1`` token method signed by a real OAuth client
(oauthlib's, and keystoneauth's oauth1 plugin over HTTP), the delegated roles, the
revocation of tokens with their access token or consumer, expiry, and refusals."""

from __future__ import annotations

import datetime as dt
import os
import time

import pytest
from test_identity_trusts import assert_error, role_id

from conftest import unique
from oauth1_flow import V3, access_token, authorize, client, delegate, form, oauth_token, request_token, signed_headers

if not os.environ.get("CI"):
    pytest.importorskip("oauthlib")

CONSUMERS = f"{V3}/OS-OAUTH1/consumers"
TOKENS = f"{V3}/auth/tokens"
PASSWORD = "pw-oauth-1"


@pytest.fixture
def party(api, admin_token):
    """A project and a user holding admin and reader on it (Keystone's policy lets only
    admins authorize request tokens), with the user's project token."""
    project = api.request("POST", f"{V3}/projects", admin_token,
                          json={"project": {"name": unique("op")}}).json()["project"]
    user = api.request("POST", f"{V3}/users", admin_token,
                       json={"user": {"name": unique("ou"), "password": PASSWORD}}).json()["user"]
    for name in ("admin", "reader"):
        r = api.request("PUT", f"{V3}/projects/{project['id']}/users/{user['id']}/roles/"
                               f"{role_id(api, admin_token, name)}", admin_token)
        assert r.status_code == 204, r.text
    token = api.request("POST", TOKENS, json={"auth": {"identity": {"methods": ["password"], "password": {
        "user": {"id": user["id"], "password": PASSWORD}}}, "scope": {"project": {"id": project["id"]}}}}
    ).headers["X-Subject-Token"]
    return {"project": project, "user": user, "token": token}


@pytest.fixture
def consumer(api, admin_token):
    r = api.request("POST", CONSUMERS, admin_token, json={"consumer": {"description": "mine", "color": "blue"}})
    assert r.status_code == 201, r.text
    return r.json()["consumer"]


# -- consumers -------------------------------------------------------------------------------
def test_consumer_crud(api, admin_token, consumer):
    assert len(consumer["secret"]) == 32 and len(consumer["id"]) == 32
    assert consumer["description"] == "mine" and consumer["color"] == "blue"
    assert consumer["links"]["self"].endswith(f"/identity/v3/OS-OAUTH1/consumers/{consumer['id']}")
    shown = api.request("GET", f"{CONSUMERS}/{consumer['id']}", admin_token).json()["consumer"]
    assert "secret" not in shown and shown["description"] == "mine" and shown["links"] == consumer["links"]
    listed = api.request("GET", CONSUMERS, admin_token).json()
    assert consumer["id"] in [c["id"] for c in listed["consumers"]]
    assert all("secret" not in c for c in listed["consumers"])
    assert listed["links"]["self"].endswith("/identity/v3/OS-OAUTH1/consumers")
    r = api.request("PATCH", f"{CONSUMERS}/{consumer['id']}", admin_token, json={"consumer": {"description": "new"}})
    assert r.status_code == 200, r.text
    assert r.json()["consumer"]["description"] == "new" and "secret" not in r.json()["consumer"]
    assert api.request("POST", CONSUMERS, admin_token).status_code == 201  # no body: an empty consumer
    assert api.request("DELETE", f"{CONSUMERS}/{consumer['id']}", admin_token).status_code == 204
    assert_error(api.request("GET", f"{CONSUMERS}/{consumer['id']}", admin_token), 404, "Consumer not found")
    assert_error(api.request("DELETE", f"{CONSUMERS}/{consumer['id']}", admin_token), 404)


def test_consumer_bad_updates(api, admin_token, consumer):
    path = f"{CONSUMERS}/{consumer['id']}"
    assert_error(api.request("PATCH", path, admin_token, json={"consumer": {"secret": "mine"}}), 400)
    assert_error(api.request("PATCH", path, admin_token, json={"consumer": {}}), 400)
    assert_error(api.request("PATCH", path, admin_token, json={"consumer": {"id": "other"}}), 400)
    assert_error(api.request("PATCH", path, admin_token, json={"consumer": {"description": 5}}), 400)
    assert_error(api.request("POST", CONSUMERS, admin_token, json={"consumer": {"description": ["x"]}}), 400)
    assert_error(api.request("PATCH", f"{CONSUMERS}/{'0' * 32}", admin_token,
                             json={"consumer": {"description": "x"}}), 404, "Consumer not found")


def test_consumers_are_the_admins(api, party, consumer):
    reader = api.request("POST", TOKENS, json={"auth": {"identity": {"methods": ["password"], "password": {
        "user": {"id": party["user"]["id"], "password": PASSWORD}}}}}).headers["X-Subject-Token"]  # unscoped
    assert_error(api.request("GET", CONSUMERS, reader), 403)
    assert_error(api.request("POST", CONSUMERS, reader, json={"consumer": {"secret": 1}}), 403)  # 403 before 400


# -- the delegation flow -----------------------------------------------------------------------
def test_whole_flow_delegates_only_the_authorized_roles(api, admin_token, party, consumer):
    before = dt.datetime.utcnow()
    r = request_token(api, consumer, party["project"]["id"])
    assert r.status_code == 201, r.text
    assert r.headers["content-type"].startswith("application/x-www-form-urlencoded")
    request = form(r)
    assert set(request) == {"oauth_token", "oauth_token_secret", "oauth_expires_at"}
    expires = dt.datetime.strptime(request["oauth_expires_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
    assert dt.timedelta(seconds=28790) < expires - before < dt.timedelta(seconds=28810)

    r = authorize(api, party["token"], request["oauth_token"], [{"name": "reader"}])
    assert r.status_code == 200, r.text
    verifier = r.json()["token"]["oauth_verifier"]
    assert len(verifier) == 8

    r = access_token(api, consumer, request, verifier)
    assert r.status_code == 201, r.text
    access = form(r)
    expires = dt.datetime.strptime(access["oauth_expires_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
    assert dt.timedelta(seconds=86390) < expires - before < dt.timedelta(seconds=86410)
    # The request token is used up.
    assert_error(access_token(api, consumer, request, verifier), 404, "Request token not found")

    r = oauth_token(api, consumer, access)
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    assert token["methods"] == ["oauth1"]
    assert token["user"]["id"] == party["user"]["id"]
    assert token["project"]["id"] == party["project"]["id"]
    assert [role["name"] for role in token["roles"]] == ["reader"]  # not the user's admin role
    assert token["OS-OAUTH1"] == {"access_token_id": access["oauth_token"], "consumer_id": consumer["id"]}
    assert token["expires_at"] <= access["oauth_expires_at"]
    subject = r.headers["X-Subject-Token"]
    shown = api.request("GET", TOKENS, admin_token, headers={"X-Subject-Token": subject})
    assert shown.status_code == 200 and shown.json()["token"]["OS-OAUTH1"] == token["OS-OAUTH1"]
    # The delegated token works as a reader of the project and no more.
    assert api.request("GET", f"{V3}/projects/{party['project']['id']}", subject).status_code == 200
    assert_error(api.request("GET", f"{V3}/users", subject), 403)
    # It cannot be rescoped, authorize request tokens or manage access tokens.
    rescoped = api.request("POST", TOKENS, json={"auth": {"identity": {"methods": ["token"],
                                                                        "token": {"id": subject}}}})
    assert_error(rescoped, 403)
    assert "OAuth-scoped token" in rescoped.json()["error"]["message"]


def test_access_tokens_of_a_user(api, admin_token, party):
    consumer, access = delegate(api, admin_token, party["token"], party["project"]["id"], [{"name": "reader"}])
    user_id, token_id = party["user"]["id"], access["oauth_token"]
    path = f"{V3}/users/{user_id}/OS-OAUTH1/access_tokens"
    listed = api.request("GET", path, party["token"]).json()
    mine = next(t for t in listed["access_tokens"] if t["id"] == token_id)
    assert mine["consumer_id"] == consumer["id"] and mine["project_id"] == party["project"]["id"]
    assert mine["authorizing_user_id"] == user_id and mine["expires_at"] == access["oauth_expires_at"]
    assert mine["links"]["roles"].endswith(f"{path}/{token_id}/roles") and "access_secret" not in mine
    assert api.request("GET", f"{path}/{token_id}", party["token"]).json()["access_token"] == mine
    roles = api.request("GET", f"{path}/{token_id}/roles", party["token"]).json()["roles"]
    reader = role_id(api, admin_token, "reader")
    assert [r["id"] for r in roles] == [reader] and "description" not in roles[0]
    assert api.request("GET", f"{path}/{token_id}/roles/{reader}", party["token"]).json()["role"]["name"] == "reader"
    assert_error(api.request("GET", f"{path}/{token_id}/roles/{role_id(api, admin_token, 'admin')}",
                             party["token"]), 404)
    assert_error(api.request("GET", f"{V3}/users/{'0' * 32}/OS-OAUTH1/access_tokens/{token_id}", admin_token), 404)
    # Tokens of the access token are refused their management.
    subject = oauth_token(api, consumer, access).headers["X-Subject-Token"]
    assert_error(api.request("DELETE", f"{path}/{token_id}", subject), 403)


def test_deleting_the_access_token_revokes_its_tokens(api, admin_token, party):
    consumer, access = delegate(api, admin_token, party["token"], party["project"]["id"], [{"name": "reader"}])
    subject = oauth_token(api, consumer, access).headers["X-Subject-Token"]
    path = f"{V3}/users/{party['user']['id']}/OS-OAUTH1/access_tokens/{access['oauth_token']}"
    assert api.request("DELETE", path, party["token"]).status_code == 204
    assert_error(api.request("GET", TOKENS, admin_token, headers={"X-Subject-Token": subject}), 404)
    assert_error(api.request("GET", f"{V3}/projects/{party['project']['id']}", subject), 401)
    assert_error(oauth_token(api, consumer, access), 404, "Access token not found")
    assert_error(api.request("DELETE", path, party["token"]), 404)


def test_deleting_the_consumer_revokes_its_tokens(api, admin_token, party):
    consumer, access = delegate(api, admin_token, party["token"], party["project"]["id"], [{"name": "reader"}])
    subject = oauth_token(api, consumer, access).headers["X-Subject-Token"]
    pending = form(request_token(api, consumer, party["project"]["id"]))
    assert api.request("DELETE", f"{CONSUMERS}/{consumer['id']}", admin_token).status_code == 204
    assert_error(api.request("GET", TOKENS, admin_token, headers={"X-Subject-Token": subject}), 404)
    path = f"{V3}/users/{party['user']['id']}/OS-OAUTH1/access_tokens"
    assert access["oauth_token"] not in api.request("GET", path, party["token"]).text
    assert_error(authorize(api, party["token"], pending["oauth_token"], [{"name": "reader"}]), 404)


def test_roles_lost_after_delegation_leave_the_token(api, admin_token, party):
    """A token carries the delegated roles the user still holds; none left: no token."""
    consumer, access = delegate(api, admin_token, party["token"], party["project"]["id"], [{"name": "reader"}])
    grant = f"{V3}/projects/{party['project']['id']}/users/{party['user']['id']}/roles/"
    subject = oauth_token(api, consumer, access).headers["X-Subject-Token"]
    for name in ("admin", "reader"):  # admin implies reader: both go
        assert api.request("DELETE", grant + role_id(api, admin_token, name), admin_token).status_code == 204
    assert_error(oauth_token(api, consumer, access), 401)
    assert_error(api.request("GET", TOKENS, admin_token, headers={"X-Subject-Token": subject}), 404)


# -- expiry ------------------------------------------------------------------------------------
def _age(api, model, row_id: str) -> None:
    with api.cloud.identity.db.session() as s:
        s.get(model, row_id).expires_at = dt.datetime.utcnow() - dt.timedelta(seconds=1)


def test_expired_request_and_access_tokens(api, admin_token, party, consumer):
    from pocketstack.identity.models import OAuthAccessToken, OAuthRequestToken
    request = form(request_token(api, consumer, party["project"]["id"]))
    _age(api, OAuthRequestToken, request["oauth_token"])
    assert_error(authorize(api, party["token"], request["oauth_token"], [{"name": "reader"}]), 401,
                 "Request token is expired")

    request = form(request_token(api, consumer, party["project"]["id"]))
    verifier = authorize(api, party["token"], request["oauth_token"], [{"name": "reader"}]).json()["token"]
    _age(api, OAuthRequestToken, request["oauth_token"])
    assert_error(access_token(api, consumer, request, verifier["oauth_verifier"]), 401, "Request token is expired")

    consumer2, access = delegate(api, admin_token, party["token"], party["project"]["id"], [{"name": "reader"}])
    subject = oauth_token(api, consumer2, access).headers["X-Subject-Token"]
    _age(api, OAuthAccessToken, access["oauth_token"])
    assert_error(oauth_token(api, consumer2, access), 401, "Access token is expired")
    assert_error(api.request("GET", TOKENS, admin_token, headers={"X-Subject-Token": subject}), 404)


# -- refusals ----------------------------------------------------------------------------------
def test_request_token_refusals(api, party, consumer):
    project_id = party["project"]["id"]
    url = f"{V3}/OS-OAUTH1/request_token"
    assert_error(api.request("POST", url, headers={"Requested-Project-Id": project_id}), 401)
    assert_error(api.request("POST", url, headers={"Authorization": "Bearer x", "Requested-Project-Id": project_id}),
                 401)
    # The wrong secret, an unknown consumer, no project, an unknown project, no callback.
    assert_error(request_token(api, {**consumer, "secret": "f" * 32}, project_id), 401, "Invalid signature")
    assert_error(request_token(api, {**consumer, "id": "f" * 32}, project_id), 404, "Consumer not found")
    headers = signed_headers(client(consumer, callback_uri="oob"), "/OS-OAUTH1/request_token")
    assert_error(api.request("POST", url, headers=headers), 400)
    assert_error(request_token(api, consumer, "0" * 32), 404)
    headers = signed_headers(client(consumer), "/OS-OAUTH1/request_token")
    r = api.request("POST", url, headers={**headers, "Requested-Project-Id": project_id})
    assert_error(r, 400)
    assert "Missing callback URI" in r.json()["error"]["message"]
    # A replayed request (same nonce and timestamp) is refused.
    headers = signed_headers(client(consumer, callback_uri="oob"), "/OS-OAUTH1/request_token")
    assert api.request("POST", url, headers={**headers, "Requested-Project-Id": project_id}).status_code == 201
    assert_error(api.request("POST", url, headers={**headers, "Requested-Project-Id": project_id}), 401)
    assert api.request("GET", url).status_code == 405


def test_authorize_refusals(api, admin_token, party, consumer):
    request = form(request_token(api, consumer, party["project"]["id"]))
    rt = request["oauth_token"]
    assert_error(authorize(api, party["token"], "0" * 32, [{"name": "reader"}]), 404, "Request token not found")
    unheld = api.request("POST", f"{V3}/roles", admin_token, json={"role": {"name": unique("or")}}).json()["role"]
    assert_error(authorize(api, party["token"], rt, [{"name": "reader"}, {"id": unheld["id"]}]), 401,
                 "authorizing user does not have role required")
    assert_error(authorize(api, party["token"], rt, [{"name": unique("no-role")}]), 404)
    assert_error(authorize(api, party["token"], rt, [{"id": "a", "name": "b"}]), 400)
    assert_error(authorize(api, party["token"], rt, "reader"), 400)
    # Not authorized yet: no verifier matches.
    assert_error(access_token(api, consumer, request, "abcdefgh"), 401,
                 "Provided verifier does not match stored verifier")
    verifier = authorize(api, party["token"], rt, [{"name": "reader"}]).json()["token"]["oauth_verifier"]
    wrong = "".join("b" if c != "b" else "c" for c in verifier)
    assert_error(access_token(api, consumer, request, wrong), 401, "Provided verifier does not match stored verifier")
    other = api.request("POST", CONSUMERS, admin_token, json={"consumer": {}}).json()["consumer"]
    assert_error(access_token(api, other, request, verifier), 401,
                 "Provided consumer key does not match stored consumer key.")
    bad = dict(request, oauth_token_secret="f" * 32)
    assert_error(access_token(api, consumer, bad, verifier), 401, "Invalid signature")
    assert access_token(api, consumer, request, verifier).status_code == 201


def test_oauth1_method_refusals(api, admin_token, party):
    consumer, access = delegate(api, admin_token, party["token"], party["project"]["id"], [{"name": "reader"}])
    assert_error(oauth_token(api, consumer, {**access, "oauth_token_secret": "f" * 32}), 401,
                 "Could not validate the access token")
    assert_error(oauth_token(api, {**consumer, "secret": "f" * 32}, access), 401)
    assert_error(oauth_token(api, consumer, {**access, "oauth_token": "0" * 32}), 404, "Access token not found")
    body = {"auth": {"identity": {"methods": ["oauth1"], "oauth1": {}}}}
    assert_error(api.request("POST", TOKENS, json=body), 401)
    # The access token's project, whatever scope is asked for.
    r = oauth_token(api, consumer, access, scope={"project": {"id": "0" * 32}})
    assert r.status_code == 201 and r.json()["token"]["project"]["id"] == party["project"]["id"]


def test_oauth1_method_off_when_not_in_auth_methods(api, admin_token, party, monkeypatch):
    consumer, access = delegate(api, admin_token, party["token"], party["project"]["id"], [{"name": "reader"}])
    assert "oauth1" in api.cloud.identity.tokens.methods  # on by default, as Keystone's [auth] methods
    monkeypatch.setattr(api.cloud.identity.tokens, "methods", ["password", "token"])
    assert_error(oauth_token(api, consumer, access), 401,
                 "Attempted to authenticate with an unsupported method: oauth1.")


def test_jws_tokens_carry_the_access_token(api, admin_token, party):
    """The payload field survives both token providers' sealing."""
    from pocketstack.identity.jws import _claims, _payload
    from pocketstack.identity.tokens import TokenFormatter, TokenPayload
    payload = TokenPayload(user_id=party["user"]["id"], methods=["oauth1"], expires_at=time.time() + 60,
                           scope_type=1, scope_id=party["project"]["id"], access_token_id="ab" * 16)
    assert _payload(_claims(payload)).access_token_id == "ab" * 16
    formatter = api.cloud.identity.tokens.formatter
    if isinstance(formatter, TokenFormatter):
        assert formatter.open(formatter.seal(payload)).access_token_id == "ab" * 16


BAD_HEADERS = ["OAuth", "OAuth a", "OAuth =", 'OAuth a="%ZZ"', 'OAuth oauth_consumer_key="x"', "OAuth ,,,",
               'OAuth oauth_consumer_key="a", oauth_consumer_key="b"', "Basic Zm9vOmJhcg==", 'OAuth realm="x\\"',
               'OAuth oauth_consumer_key="' + "0" * 32 + '", oauth_token="\u00e9"']


@pytest.mark.parametrize("header", BAD_HEADERS)
@pytest.mark.parametrize("path", ["/OS-OAUTH1/request_token", "/OS-OAUTH1/access_token", "/auth/tokens"])
def test_malformed_authorization_headers_are_4xx(api, header, path):
    body = {"json": {"auth": {"identity": {"methods": ["oauth1"], "oauth1": {}}}}} if path == "/auth/tokens" else {}
    r = api.request("POST", V3 + path, headers={"Authorization": header.encode(), "Requested-Project-Id": "x"},
                    **body)
    assert 400 <= r.status_code < 500 and r.json()["error"]["code"] == r.status_code, r.text


# -- keystoneauth's oauth1 plugin, over HTTP (the keystone_url fixture: tests/conftest.py) ----------
def test_keystoneauth_oauth1_plugin(api, admin_token, party, keystone_url):
    from keystoneauth1 import session
    from keystoneauth1.extras.oauth1 import v3 as ks_oauth1
    consumer, access = delegate(api, admin_token, party["token"], party["project"]["id"], [{"name": "reader"}])
    plugin = ks_oauth1.OAuth1(keystone_url, consumer_key=consumer["id"], consumer_secret=consumer["secret"],
                              access_key=access["oauth_token"], access_secret=access["oauth_token_secret"])
    sess = session.Session(auth=plugin)
    token = sess.get_token()
    assert sess.get_project_id() == party["project"]["id"]
    shown = api.request("GET", TOKENS, admin_token, headers={"X-Subject-Token": token}).json()["token"]
    assert shown["OS-OAUTH1"]["consumer_id"] == consumer["id"] and [r["name"] for r in shown["roles"]] == ["reader"]
