"""Keystone's WebSSO (``/v3/auth/OS-FEDERATION/…/websso``) with OpenID Connect against
the real test provider (tests/oidc_provider.py): the redirect to its authorization endpoint,
its login page, the code coming back, the callback page posting a valid token to the
dashboard; and every way the round trip is refused (untrusted origin, tampered state or
pending login, a provider's refusal, a replayed code).  Also Keystone's own WebSSO path
for a protocol no front end serves: the assertion of a trusted front proxy."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from test_identity_federation import (
    FED,
    IDPS,
    PREFIX,
    V3,
    proxy,  # noqa: F401 - fixture
    put,
)
from test_identity_federation import idp as proxied_idp  # noqa: F401 - fixture
from test_identity_trusts import assert_error

from oidc_provider import SSO_CLIENT, SSO_SECRET, running_provider
from pocketstack.identity.oidc import OidcFrontEnd, OidcProvider
from pocketstack.identity.oidc_websso import OidcWebSso
from pocketstack.identity.websso import WebSso
from pocketstack.identity.websso_flow import PENDING_COOKIE

from conftest import unique

ORIGIN = "http://dashboard.example/dashboard/auth/websso/"
DASHBOARD_ORIGIN = "http://127.0.0.1:8780/dashboard/auth/websso/"  # the in-process cloud's own
AUTH = f"{V3}/auth/OS-FEDERATION"


@pytest.fixture(scope="module")
def provider():
    with running_provider() as provider:
        yield provider


@pytest.fixture
def sso(api, admin_token, provider, monkeypatch):
    """An identity provider whose ``openid`` protocol signs browsers in at the test
    provider as client ``pocketstack-sso``; ORIGIN (host name in other case) and the
    cloud's own dashboard are the trusted dashboards."""
    idp_id, mapping_id, project = unique("sso"), unique("smap"), unique("sproj")
    put(api, admin_token, f"{FED}/mappings/{mapping_id}", "mapping", {"rules": [
        {"local": [{"user": {"name": "{0}", "email": "{1}"}},
                   {"projects": [{"name": project, "roles": [{"name": "member"}]}]}],
         "remote": [{"type": "OIDC_CLAIM_preferred_username"}, {"type": "OIDC_CLAIM_email"}]}]})
    put(api, admin_token, f"{IDPS}/{idp_id}", "identity_provider", {"enabled": True, "remote_ids": [provider.issuer]})
    put(api, admin_token, f"{IDPS}/{idp_id}/protocols/openid", "protocol",
        {"mapping_id": mapping_id, "remote_id_attribute": "HTTP_OIDC_ISS"})
    front = OidcFrontEnd({idp_id: OidcProvider.from_table(idp_id, {
        "issuer": provider.issuer, "audience": "pocketstack", "client_id": SSO_CLIENT, "client_secret": SSO_SECRET,
        "scope": "openid email"})})
    identity = api.cloud.identity
    monkeypatch.setattr(identity, "oidc", front)
    monkeypatch.setattr(identity.websso_flow, "front_ends", [OidcWebSso(front)])
    monkeypatch.setattr(identity, "websso", WebSso.from_settings(
        f"http://Dashboard.Example/dashboard/auth/websso/, {DASHBOARD_ORIGIN}", ""))
    monkeypatch.setattr(identity.websso_flow, "websso", identity.websso)
    redirect_uri = f"http://127.0.0.1:8780{AUTH}/identity_providers/{idp_id}/protocols/openid/websso"
    provider.clients[SSO_CLIENT].redirect_uris.append(redirect_uri)
    yield {"id": idp_id, "project": project, "redirect_uri": redirect_uri}
    provider.clients[SSO_CLIENT].redirect_uris.remove(redirect_uri)
    assert api.request("DELETE", f"{IDPS}/{idp_id}", admin_token).status_code == 204


def begin(api, url: str, origin: str = ORIGIN) -> tuple[httpx.Response, str]:
    """The first leg: Keystone's redirect and the sealed pending login it set (taken out
    of the shared client's jar, so that each test hands it on by itself)."""
    r = api.client.get(url, params={"origin": origin}, follow_redirects=False)
    assert r.status_code == 302, r.text
    sealed = r.cookies[PENDING_COOKIE]
    api.client.cookies.delete(PENDING_COOKIE)
    return r, sealed


def provider_login(location: str, user: str = "alice", password: str = "wonderland") -> str:
    """The user at the provider's login page; the URL it sends the browser back to."""
    page = httpx.get(location)
    assert page.status_code == 200 and 'name="password"' in page.text, page.text
    action = html.unescape(re.search(r'<form method="post" action="([^"]+)"', page.text).group(1))
    answer = httpx.post(urlsplit(location)._replace(path="", query="").geturl() + action,
                        data={"username": user, "password": password})
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def come_back(api, back: str, sealed: str | None, method: str = "GET") -> httpx.Response:
    parts = urlsplit(back)
    headers = {"Cookie": f"{PENDING_COOKIE}={sealed}"} if sealed else {}
    if method == "POST":  # an answer by response_mode=form_post
        return api.client.post(parts.path, content=parts.query, headers={
            **headers, "Content-Type": "application/x-www-form-urlencoded"})
    return api.client.get(f"{parts.path}?{parts.query}", headers=headers)


def posted_token(response: httpx.Response) -> tuple[str, str]:
    """The callback page's form target and token."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    action = re.search(r'<form id="sso" name="sso" action="([^"]+)" method="post">', response.text).group(1)
    token = re.search(r'name="token" id="token" value="([^"]+)"', response.text).group(1)
    return html.unescape(action), token


def test_redirect_to_the_authorization_endpoint(api, sso, provider):
    for url in (f"{AUTH}/websso/openid", f"{AUTH}/identity_providers/{sso['id']}/protocols/openid/websso"):
        r, sealed = begin(api, url)
        location = urlsplit(r.headers["location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == provider.issuer + "/authorize"
        query = {k: v[0] for k, v in parse_qs(location.query).items()}
        assert query["response_type"] == "code" and query["client_id"] == SSO_CLIENT
        assert query["redirect_uri"] == sso["redirect_uri"] and query["scope"] == "openid email"
        assert query["code_challenge_method"] == "S256" and len(query["state"]) >= 32 and query["nonce"]
        cookie = r.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/identity/v3/auth/OS-FEDERATION/" in cookie
        assert query["state"] not in sealed and query["nonce"] not in sealed  # sealed, not just signed


def test_code_exchange_answers_the_callback_form_with_a_valid_token(api, admin_token, sso):
    r, sealed = begin(api, f"{AUTH}/websso/openid")
    back = provider_login(r.headers["location"])
    assert back.startswith(sso["redirect_uri"] + "?")
    answer = come_back(api, back, sealed)
    action, token = posted_token(answer)
    assert action == ORIGIN
    assert "document.forms['sso'].submit()" in answer.text
    assert f"{PENDING_COOKIE}=" in answer.headers["set-cookie"] and "Max-Age=0" in answer.headers["set-cookie"]
    checked = api.request("GET", f"{V3}/auth/tokens", admin_token, headers={"X-Subject-Token": token})
    assert checked.status_code == 200, checked.text
    body = checked.json()["token"]
    assert body["methods"] == ["openid"] and "project" not in body
    assert body["user"]["name"] == "alice"
    assert body["user"]["OS-FEDERATION"]["identity_provider"] == {"id": sso["id"]}
    # The user's token sees the provisioned project (what the dashboard scopes to).
    projects = api.request("GET", f"{V3}/auth/projects", token).json()["projects"]
    assert [p["name"] for p in projects] == [sso["project"]]
    # The code is used up: the same answer again is refused by the provider.
    assert_error(come_back(api, back, sealed), 401,
                 "OpenID Connect sign-in failed: the identity provider refused the authorization code: invalid_grant")


def test_answer_by_form_post(api, admin_token, sso):
    r, sealed = begin(api, f"{AUTH}/identity_providers/{sso['id']}/protocols/openid/websso")
    action, token = posted_token(come_back(api, provider_login(r.headers["location"]), sealed, method="POST"))
    assert action == ORIGIN
    assert api.request("GET", f"{V3}/auth/tokens", admin_token, headers={"X-Subject-Token": token}).status_code == 200


def test_tampered_state_or_pending_login_is_refused(api, admin_token, sso):
    r, sealed = begin(api, f"{AUTH}/websso/openid")
    back = provider_login(r.headers["location"])
    state = parse_qs(urlsplit(back).query)["state"][0]
    assert_error(come_back(api, back.replace(state, state[:-2] + ("AA" if state[-2:] != "AA" else "BB")), sealed),
                 401, "The state of the identity provider's answer is not the one of the pending single sign-on")
    assert_error(come_back(api, back, None), 401, "No single sign-on is pending in this browser (its cookie is "
                                                  "missing); start again from the dashboard")
    forged = sealed[:-4] + ("AAAA" if sealed[-4:] != "AAAA" else "BBBB")
    assert_error(come_back(api, back, forged), 401,
                 "The pending single sign-on is not valid or has expired; start again from the dashboard")
    # Something else sealed with the same keys (a token) is no pending login.
    assert_error(come_back(api, back, admin_token), 401,
                 "The pending single sign-on is not valid or has expired; start again from the dashboard")
    # Another browser's pending login (its own state) does not take this answer either.
    _r, other = begin(api, f"{AUTH}/websso/openid")
    assert_error(come_back(api, back, other), 401,
                 "The state of the identity provider's answer is not the one of the pending single sign-on")
    # Nor a pending login that has outlived federation_websso_timeout.
    api.cloud.identity.websso_flow.pending.ttl = -1
    try:
        assert_error(come_back(api, back, sealed), 401,
                     "The pending single sign-on is not valid or has expired; start again from the dashboard")
    finally:
        api.cloud.identity.websso_flow.pending.ttl = api.cloud.settings.federation_websso_timeout
    # Untouched, the answer still signs the user in.
    posted_token(come_back(api, back, sealed))


def test_untrusted_or_missing_origin(api, sso):
    for url in (f"{AUTH}/websso/openid", f"{AUTH}/identity_providers/{sso['id']}/protocols/openid/websso"):
        r = api.client.get(url, params={"origin": "http://evil.example/steal"}, follow_redirects=False)
        assert_error(r, 401, "http://evil.example/steal is not a trusted dashboard host")
        assert PENDING_COOKIE not in r.headers.get("set-cookie", "")
        assert_error(api.client.get(url, follow_redirects=False), 400, "Request must have an origin query parameter")


def test_provider_refusal_and_unknown_provider(api, admin_token, sso, provider):
    r, sealed = begin(api, f"{AUTH}/websso/openid")
    state = parse_qs(urlsplit(r.headers["location"]).query)["state"][0]
    refused = come_back(api, f"{sso['redirect_uri']}?error=access_denied&error_description=User+said+no&state={state}",
                        sealed)
    assert_error(refused, 401, "OpenID Connect sign-in failed: the identity provider answered access_denied: "
                               "User said no")
    # A disabled identity provider is not sent anyone (Keystone's 403).
    r = api.request("PATCH", f"{IDPS}/{sso['id']}", admin_token, json={"identity_provider": {"enabled": False}})
    assert r.status_code == 200, r.text
    assert_error(api.client.get(f"{AUTH}/websso/openid", params={"origin": ORIGIN}, follow_redirects=False), 403,
                 f"Identity Provider {sso['id']} is disabled")


def test_protocol_url_with_several_providers(api, admin_token, sso, provider):
    """Two identity providers sign browsers in with ``openid``: the protocol's URL cannot
    choose (400 naming the identity provider's URL), each provider's own URL can."""
    other = unique("sso2")
    mapping = api.request("GET", f"{IDPS}/{sso['id']}/protocols/openid", admin_token).json()["protocol"]["mapping_id"]
    put(api, admin_token, f"{IDPS}/{other}", "identity_provider", {"enabled": True})
    put(api, admin_token, f"{IDPS}/{other}/protocols/openid", "protocol", {"mapping_id": mapping})
    front = api.cloud.identity.oidc
    front.verifiers[other] = front.verifiers[sso["id"]]
    try:
        r = api.client.get(f"{AUTH}/websso/openid", params={"origin": ORIGIN}, follow_redirects=False)
        names = ", ".join(sorted([sso["id"], other]))
        assert_error(r, 400, f"Identity providers {names} all sign in with protocol openid: use "
                             "/v3/auth/OS-FEDERATION/identity_providers/{idp_id}/protocols/openid/websso")
        begin(api, f"{AUTH}/identity_providers/{sso['id']}/protocols/openid/websso")
    finally:
        del front.verifiers[other]
        assert api.request("DELETE", f"{IDPS}/{other}", admin_token).status_code == 204


def test_id_token_nonce_and_audience_are_checked(sso, provider, api):
    verifier = api.cloud.identity.oidc.verifiers[sso["id"]]
    token = provider.sign({"aud": SSO_CLIENT, "nonce": "n-1"}, "rsa-1")
    assert verifier.id_token_claims(token, "n-1")["nonce"] == "n-1"
    with pytest.raises(Exception, match="Invalid OpenID Connect ID token: its nonce is not the one of the sign-in"):
        verifier.id_token_claims(token, "n-2")
    with pytest.raises(Exception, match="Invalid OpenID Connect ID token: its audience is not 'pocketstack-sso'"):
        verifier.id_token_claims(provider.sign({"nonce": "n-1"}, "rsa-1"), "n-1")


def test_trusted_proxy_assertion_as_keystone(api, admin_token, proxy, proxied_idp, monkeypatch):  # noqa: F811
    """A protocol no front end serves: the proxy's assertion, as Keystone reads it from
    mod_shib or mod_auth_openidc in front of it; the protocol-wide URL finds the identity
    provider by the protocol's ``remote_id_attribute``."""
    monkeypatch.setattr(api.cloud.identity, "websso", WebSso.from_settings(ORIGIN, ""))
    idp_id, attribute = proxied_idp["id"], unique("ENTITY").upper().replace("-", "_")
    r = api.request("PATCH", f"{IDPS}/{idp_id}/protocols/mapped", admin_token,
                    json={"protocol": {"mapping_id": proxied_idp["mapping"], "remote_id_attribute": attribute}})
    assert r.status_code == 200, r.text
    headers = {PREFIX + "Remote-User": "bob", PREFIX + "Email": "bob@example.org",
               PREFIX + attribute.replace("_", "-"): f"https://{idp_id}.example/"}
    for url in (f"{AUTH}/websso/mapped", f"{AUTH}/identity_providers/{idp_id}/protocols/mapped/websso"):
        action, token = posted_token(proxy.post(url, params={"origin": ORIGIN}, headers=headers))
        assert action == ORIGIN
        body = api.request("GET", f"{V3}/auth/tokens", admin_token, headers={"X-Subject-Token": token}).json()
        assert body["token"]["user"]["name"] == "bob"
    # Without the remote id there is no telling which provider it is (Keystone's 401).
    r = proxy.get(f"{AUTH}/websso/mapped", params={"origin": ORIGIN}, headers={PREFIX + "Remote-User": "bob"})
    assert_error(r, 401, "Missing entity ID from environment")
