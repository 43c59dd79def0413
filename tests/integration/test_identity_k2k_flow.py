"""Keystone to Keystone between two pocketstack clouds, each its own identity service
and database served over HTTP: cloud A, the SAML identity provider, has a service
provider for cloud B; B trusts A's metadata (``federation_saml_metadata``) through an
identity provider whose remote id is A's entityID.  keystoneauth's real
``Keystone2Keystone`` plugin turns a token of A into one of B, which B then honours;
and B refuses what it must: an assertion changed after signing, one replayed, one
addressed to another service provider; A refuses a disabled or unknown one."""

from __future__ import annotations

import contextlib
import dataclasses
import re

import httpx
import pytest

from cloudproc import ADMIN_PASSWORD, identity_over_http
from conftest import DEMO_PASSWORD, unique
from support import IN_CI, require_tools

try:
    from keystoneauth1 import exceptions as ks_exc
    from keystoneauth1 import session
    from keystoneauth1.identity import v3
    from lxml import etree

    from pocketstack.cloud import Cloud
    from pocketstack.common import config
    from pocketstack.identity import saml_idp_xml  # noqa: F401 (pysaml2, the saml extra)
    from pocketstack.identity.bootstrap import bootstrap
except ImportError as missing:
    if IN_CI:
        raise
    pytest.skip(f"K2K tests need the 'saml' extra and keystoneauth1: {missing}", allow_module_level=True)

pytestmark = pytest.mark.timeout(300)
PAOS = "application/vnd.paos+xml"
NS = {"saml": "urn:oasis:names:tc:SAML:2.0:assertion"}


@contextlib.contextmanager
def identity_cloud(directory, **settings):
    """An identity-only cloud on its own SQLite database in ``directory``, bootstrapped."""
    loaded = config.load(overrides={"data_dir": directory, "database_url": "", "bcrypt_rounds": 4, "port": 8780,
                                    "clouds_file": str(directory / "clouds.yaml"), **settings}, environ={})
    cloud = Cloud(loaded, services=["identity"])
    try:
        bootstrap(cloud.identity, admin_password=ADMIN_PASSWORD, demo_password=DEMO_PASSWORD,
                  region=loaded.region, services=cloud.catalog(), service_users=cloud.service_users())
        yield cloud
    finally:
        cloud.close()


def admin(url: str, method: str, path: str, token: str, headers: dict | None = None, **kwargs) -> httpx.Response:
    return httpx.request(method, url + path, headers={"X-Auth-Token": token, **(headers or {})}, **kwargs)


def admin_token(url: str) -> str:
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": ADMIN_PASSWORD}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
    r = httpx.post(url + "/auth/tokens", json=body)
    assert r.status_code == 201, r.text
    return r.headers["X-Subject-Token"]


@dataclasses.dataclass
class K2K:
    a_url: str
    b_url: str
    a_token: str
    b_token: str
    sp_id: str
    idp_id: str
    idp_domain: str
    project: str
    group_id: str
    user: dict

    @property
    def sp_url(self) -> str:
        return self.b_url + "/mellon/paosResponse"

    def ecp(self, sp_id: str | None = None, token: str | None = None) -> httpx.Response:
        body = {"auth": {"identity": {"methods": ["token"], "token": {"id": token or self.user_token()}},
                         "scope": {"service_provider": {"id": sp_id or self.sp_id}}}}
        return httpx.post(self.a_url + "/auth/OS-FEDERATION/saml2/ecp", json=body)

    def user_token(self) -> str:
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": self.user["name"], "domain": {"id": "default"}, "password": "k2k-secret"}}},
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
        r = httpx.post(self.a_url + "/auth/tokens", json=body)
        assert r.status_code == 201, r.text
        return r.headers["X-Subject-Token"]

    def password_plugin(self) -> v3.Password:
        return v3.Password(auth_url=self.a_url, username=self.user["name"], password="k2k-secret",
                           user_domain_id="default", project_name="admin", project_domain_id="default")


@pytest.fixture(scope="module")
def k2k(tmp_path_factory):
    require_tools({"xmlsec1": "xmlsec1"}, "SAML signatures (pysaml2)")
    with contextlib.ExitStack() as stack:
        cloud_a = stack.enter_context(identity_cloud(tmp_path_factory.mktemp("cloud-a")))
        a_url = stack.enter_context(identity_over_http(cloud_a.asgi_app()))
        metadata = httpx.get(a_url + "/OS-FEDERATION/saml2/metadata")
        assert metadata.status_code == 200, metadata.text
        b_dir = tmp_path_factory.mktemp("cloud-b")
        (b_dir / "cloud-a.xml").write_bytes(metadata.content)
        entity = etree.fromstring(metadata.content).get("entityID")
        cloud_b = stack.enter_context(identity_cloud(b_dir, federation_saml_metadata=str(b_dir / "cloud-a.xml")))
        b_url = stack.enter_context(identity_over_http(cloud_b.asgi_app()))
        a_token, b_token = admin_token(a_url), admin_token(b_url)

        # On A: a user (of the admin project, in a group) and the service provider B.
        user = admin(a_url, "POST", "/users", a_token, json={"user": {
            "name": unique("alice"), "password": "k2k-secret"}}).json()["user"]
        roles = {r["name"]: r["id"] for r in admin(a_url, "GET", "/roles", a_token).json()["roles"]}
        project_a = admin(a_url, "GET", "/projects?name=admin", a_token).json()["projects"][0]["id"]
        assert admin(a_url, "PUT", f"/projects/{project_a}/users/{user['id']}/roles/{roles['member']}",
                     a_token).status_code == 204
        group_a = admin(a_url, "POST", "/groups", a_token, json={"group": {"name": "engineering"}}).json()["group"]
        assert admin(a_url, "PUT", f"/groups/{group_a['id']}/users/{user['id']}", a_token).status_code == 204
        sp_id, idp_id = "cloud-b", "cloud-a"
        auth_url = f"{b_url}/OS-FEDERATION/identity_providers/{idp_id}/protocols/saml2/auth"
        r = admin(a_url, "PUT", f"/OS-FEDERATION/service_providers/{sp_id}", a_token, json={"service_provider": {
            "auth_url": auth_url, "sp_url": b_url + "/mellon/paosResponse", "enabled": True}})
        assert r.status_code == 201, r.text

        # On B: the identity provider A, and a mapping of Keystone's attributes: an
        # ephemeral user named as on A, a project provisioned with the member role, and
        # A's "engineering" group into a group of B.
        group_b = admin(b_url, "POST", "/groups", b_token, json={"group": {"name": "from-cloud-a"}}).json()["group"]
        project = "k2k-project"
        rules = [
            {"local": [{"user": {"name": "{0}"}}, {"projects": [{"name": project, "roles": [{"name": "member"}]}]}],
             "remote": [{"type": "MELLON_openstack_user"}, {"type": "MELLON_openstack_user_domain",
                                                            "any_one_of": ["Default"]}]},
            {"local": [{"group": {"id": group_b["id"]}}],
             "remote": [{"type": "MELLON_openstack_groups", "any_one_of": [
                 'JSON:{"name": "engineering", "domain": {"name": "Default"}}']}]},
        ]
        assert admin(b_url, "PUT", "/OS-FEDERATION/mappings/cloud-a-mapping", b_token,
                     json={"mapping": {"rules": rules}}).status_code == 201
        r = admin(b_url, "PUT", f"/OS-FEDERATION/identity_providers/{idp_id}", b_token, json={"identity_provider": {
            "enabled": True, "remote_ids": [entity]}})
        assert r.status_code == 201, r.text
        assert admin(b_url, "PUT", f"/OS-FEDERATION/identity_providers/{idp_id}/protocols/saml2", b_token,
                     json={"protocol": {"mapping_id": "cloud-a-mapping", "remote_id_attribute": "MELLON_IDP"}}
                     ).status_code == 201
        yield K2K(a_url, b_url, a_token, b_token, sp_id, idp_id, r.json()["identity_provider"]["domain_id"], project,
                  group_b["id"], user)


def test_keystone2keystone_plugin_gets_a_token_of_b(k2k):
    base = k2k.password_plugin()
    # A's token lists B as a service provider (where the plugin finds its URLs).
    sps = base.get_access(session.Session()).service_providers
    assert sps.get_sp_url(k2k.sp_id) == k2k.sp_url
    assert sps.get_auth_url(k2k.sp_id).endswith(f"/identity_providers/{k2k.idp_id}/protocols/saml2/auth")

    plugin = v3.Keystone2Keystone(base, k2k.sp_id, project_name=k2k.project, project_domain_id=k2k.idp_domain)
    sess = session.Session(auth=plugin)
    access = plugin.get_access(sess)
    assert access.project_name == k2k.project and "member" in access.role_names
    assert access.user_domain_id == k2k.idp_domain

    # B honours the token: it validates it and lists what it may use.
    token = sess.get_token()
    me = admin(k2k.b_url, "GET", "/auth/tokens", k2k.b_token, headers={"X-Subject-Token": token})
    assert me.status_code == 200, me.text
    user = me.json()["token"]["user"]
    assert user["name"] == k2k.user["name"]
    assert user["OS-FEDERATION"]["identity_provider"] == {"id": k2k.idp_id}
    assert user["OS-FEDERATION"]["protocol"] == {"id": "saml2"}
    assert user["OS-FEDERATION"]["groups"] == [{"id": k2k.group_id}]
    projects = httpx.get(k2k.b_url + "/auth/projects", headers={"X-Auth-Token": token})
    assert projects.status_code == 200 and [p["name"] for p in projects.json()["projects"]] == [k2k.project]
    # ...and it is B's own token: A does not know it.
    assert admin(k2k.a_url, "GET", "/auth/tokens", k2k.a_token,
                 headers={"X-Subject-Token": token}).status_code == 404


def test_b_refuses_a_tampered_assertion(k2k):
    envelope = k2k.ecp()
    assert envelope.status_code == 200, envelope.text
    tampered = envelope.text.replace(f">{k2k.user['name']}<", ">admin<")
    assert tampered != envelope.text
    r = httpx.post(k2k.sp_url, content=tampered, headers={"Content-Type": PAOS})
    assert r.status_code == 401, r.text
    assert "signature does not verify" in r.json()["error"]["message"]
    # A signature of another key (what A's metadata does not hold) is refused too.
    forged = re.sub(r"<ns2:SignatureValue>[^<]+", "<ns2:SignatureValue>" + "A" * 344, envelope.text)
    assert httpx.post(k2k.sp_url, content=forged, headers={"Content-Type": PAOS}).status_code == 401


def test_b_takes_an_assertion_once(k2k):
    """As mellon (and Shibboleth, which the plugin expects): a 303 to the identity
    provider's ``auth`` URL with the session cookie, where the token is had."""
    envelope = k2k.ecp().text
    with httpx.Client() as client:
        first = client.post(k2k.sp_url, content=envelope, headers={"Content-Type": PAOS})
        assert first.status_code == 303, first.text
        assert first.headers["location"] == (
            f"{k2k.b_url}/OS-FEDERATION/identity_providers/{k2k.idp_id}/protocols/saml2/auth")
        token = client.get(first.headers["location"])
    assert token.status_code == 201, token.text
    assert token.json()["token"]["user"]["name"] == k2k.user["name"] and token.headers["X-Subject-Token"]
    again = httpx.post(k2k.sp_url, content=envelope, headers={"Content-Type": PAOS})
    assert again.status_code == 401 and "was used already" in again.json()["error"]["message"], again.text


def test_b_refuses_an_assertion_for_another_service_provider(k2k):
    other = unique("elsewhere")
    r = admin(k2k.a_url, "PUT", f"/OS-FEDERATION/service_providers/{other}", k2k.a_token, json={"service_provider": {
        "auth_url": "https://elsewhere.test/v3/auth", "sp_url": "https://elsewhere.test/ecp", "enabled": True}})
    assert r.status_code == 201, r.text
    try:
        envelope = k2k.ecp(other).text
        r = httpx.post(k2k.sp_url, content=envelope, headers={"Content-Type": PAOS})
        assert r.status_code == 401, r.text
    finally:
        admin(k2k.a_url, "DELETE", f"/OS-FEDERATION/service_providers/{other}", k2k.a_token)


def test_a_refuses_a_disabled_or_unknown_service_provider(k2k):
    base = k2k.password_plugin()
    base.get_access(session.Session())  # its token lists B, enabled
    path = f"/OS-FEDERATION/service_providers/{k2k.sp_id}"
    assert admin(k2k.a_url, "PATCH", path, k2k.a_token,
                 json={"service_provider": {"enabled": False}}).status_code == 200
    try:
        refused = k2k.ecp()
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["message"] == f"Service Provider {k2k.sp_id} is disabled"
        plugin = v3.Keystone2Keystone(base, k2k.sp_id)
        with pytest.raises(ks_exc.AuthorizationFailure):
            plugin.get_access(session.Session())
    finally:
        assert admin(k2k.a_url, "PATCH", path, k2k.a_token,
                     json={"service_provider": {"enabled": True}}).status_code == 200
    unknown = k2k.ecp("no-such-cloud")
    assert unknown.status_code == 404 and unknown.json()["error"]["message"] == (
        "Could not find Service Provider: no-such-cloud.")


def test_a_shibboleth_service_provider_at_the_hosts_root(k2k):
    """DevStack's (and keystone-tempest-plugin's) K2K set-up: sp_url is Shibboleth's ECP
    consumer at the root of B's host, the mapping names Shibboleth's attributes."""
    root = httpx.URL(k2k.b_url).copy_with(path="/", query=None)
    sp_url = str(root).rstrip("/") + "/Shibboleth.sso/SAML2/ECP"
    auth_url = f"{k2k.b_url}/OS-FEDERATION/identity_providers/{k2k.idp_id}/protocols/mapped/auth"
    r = admin(k2k.a_url, "PUT", "/OS-FEDERATION/service_providers/cloud-b-shib", k2k.a_token, json={
        "service_provider": {"auth_url": auth_url, "sp_url": sp_url, "enabled": True}})
    assert r.status_code == 201, r.text
    member_of = {"projects": [{"name": k2k.project, "roles": [{"name": "member"}]}]}
    rules = [{"local": [{"user": {"name": "{0}"}}, member_of],
              "remote": [{"type": "openstack_user"}, {"type": "Shib-Identity-Provider"}]}]
    assert admin(k2k.b_url, "PUT", "/OS-FEDERATION/mappings/cloud-a-shib", k2k.b_token,
                 json={"mapping": {"rules": rules}}).status_code == 201
    assert admin(k2k.b_url, "PUT", f"/OS-FEDERATION/identity_providers/{k2k.idp_id}/protocols/mapped", k2k.b_token,
                 json={"protocol": {"mapping_id": "cloud-a-shib", "remote_id_attribute": "Shib-Identity-Provider"}}
                 ).status_code == 201
    try:
        plugin = v3.Keystone2Keystone(k2k.password_plugin(), "cloud-b-shib", project_name=k2k.project,
                                      project_domain_id=k2k.idp_domain)
        access = plugin.get_access(session.Session())
        assert access.project_name == k2k.project and access.username == k2k.user["name"]
        assert access._data["token"]["user"]["OS-FEDERATION"]["protocol"] == {"id": "mapped"}
        # The same consumer under the identity API's own path answers alike (its
        # Destination is still the root URL, where the assertion was addressed).
        ecp = k2k.ecp("cloud-b-shib")
        assert ecp.status_code == 200, ecp.text
        answer = httpx.post(k2k.b_url.rsplit("/v3", 1)[0] + "/Shibboleth.sso/SAML2/ECP", content=ecp.content,
                            headers={"Content-Type": PAOS})
        assert answer.status_code == 303, answer.text
        assert f"/OS-FEDERATION/identity_providers/{k2k.idp_id}/protocols/" in answer.headers["location"]
        session_cookie = answer.cookies["pocketstack-saml-session"]
        token = httpx.get(auth_url, headers={"Cookie": f"pocketstack-saml-session={session_cookie}"})
        assert token.status_code == 201 and token.json()["token"]["user"]["name"] == k2k.user["name"], token.text
    finally:
        admin(k2k.b_url, "DELETE", f"/OS-FEDERATION/identity_providers/{k2k.idp_id}/protocols/mapped", k2k.b_token)
        admin(k2k.a_url, "DELETE", "/OS-FEDERATION/service_providers/cloud-b-shib", k2k.a_token)
