"""Keystone to Keystone on the identity provider's side, through the Keystone v3 API:
service providers (``/v3/OS-FEDERATION/service_providers``), the ``service_providers``
of tokens, the SAML assertions a token is exchanged for (``/v3/auth/OS-FEDERATION/saml2``
and ``.../ecp``) and the identity provider's metadata (keystone/api/os_federation.py,
keystone/api/auth.py, keystone/federation/idp.py).  The whole flow between two clouds
is tests/integration/test_identity_k2k_flow.py."""

from __future__ import annotations

import json
import subprocess

import pytest
from test_identity_federation import FED, V3, put
from test_identity_trusts import assert_error

from conftest import ADMIN_PASSWORD, unique
from support import IN_CI, require_tools
from test_identity_tokens import make_project, make_user, password_auth

try:
    from lxml import etree

    from pocketstack.identity import saml_idp_xml  # noqa: F401 (pysaml2, the saml extra)
except ImportError as missing:
    if IN_CI:
        raise
    pytest.skip(f"SAML tests need the 'saml' extra and lxml: {missing}", allow_module_level=True)

SPS = f"{FED}/service_providers"
SAML2 = f"{V3}/auth/OS-FEDERATION/saml2"
METADATA = f"{FED}/saml2/metadata"
TOKENS = f"{V3}/auth/tokens"
NS = {"samlp": "urn:oasis:names:tc:SAML:2.0:protocol", "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
      "ds": "http://www.w3.org/2000/09/xmldsig#", "md": "urn:oasis:names:tc:SAML:2.0:metadata",
      "S": "http://schemas.xmlsoap.org/soap/envelope/", "ecp": "urn:oasis:names:tc:SAML:2.0:profiles:SSO:ecp"}
REMOTE = "https://remote.example.org:5000"


def sp_ref(**extra) -> dict:
    return {"auth_url": f"{REMOTE}/v3/OS-FEDERATION/identity_providers/idp/protocols/saml2/auth",
            "sp_url": f"{REMOTE}/Shibboleth.sso/SAML2/ECP", "description": "a remote cloud", **extra}


@pytest.fixture
def sps(api, admin_token):
    """Makes service providers (``make(**fields)`` → the created body); all deleted after."""
    made: list[str] = []

    def make(**fields):
        sp_id = unique("sp")
        body = put(api, admin_token, f"{SPS}/{sp_id}", "service_provider", sp_ref(**fields))
        made.append(sp_id)
        return body

    yield make
    for sp_id in made:
        api.request("DELETE", f"{SPS}/{sp_id}", admin_token)


def test_create_show_list_update_delete(api, admin_token, sps):
    sp = sps()
    # Keystone's defaults: disabled, the default RelayState prefix.
    assert sp == {**sp_ref(), "id": sp["id"], "enabled": False, "relay_state_prefix": "ss:mem:",
                  "links": {"self": sp["links"]["self"]}}
    assert sp["links"]["self"].endswith(f"/v3/OS-FEDERATION/service_providers/{sp['id']}")
    assert api.request("GET", f"{SPS}/{sp['id']}", admin_token).json()["service_provider"] == sp
    other = sps(enabled=True, relay_state_prefix="k2k:")
    assert (other["enabled"], other["relay_state_prefix"]) == (True, "k2k:")

    listed = api.request("GET", SPS, admin_token).json()
    assert {sp["id"], other["id"]} <= {s["id"] for s in listed["service_providers"]}
    assert listed["links"]["self"].endswith("/v3/OS-FEDERATION/service_providers")
    by_id = api.request("GET", SPS, admin_token, params={"id": sp["id"]}).json()["service_providers"]
    assert [s["id"] for s in by_id] == [sp["id"]]
    enabled = api.request("GET", SPS, admin_token, params={"enabled": "true"}).json()["service_providers"]
    assert other["id"] in {s["id"] for s in enabled} and sp["id"] not in {s["id"] for s in enabled}
    disabled = api.request("GET", SPS, admin_token, params={"enabled": "false"}).json()["service_providers"]
    assert sp["id"] in {s["id"] for s in disabled}

    r = api.request("PATCH", f"{SPS}/{sp['id']}", admin_token, json={"service_provider": {
        "enabled": True, "sp_url": "https://elsewhere.example.org/ecp", "description": None}})
    assert r.status_code == 200, r.text
    updated = r.json()["service_provider"]
    assert (updated["enabled"], updated["sp_url"], updated["description"]) == (
        True, "https://elsewhere.example.org/ecp", None)
    assert updated["auth_url"] == sp["auth_url"]
    assert api.request("GET", f"{SPS}/{sp['id']}", admin_token).json()["service_provider"] == updated

    assert api.request("DELETE", f"{SPS}/{sp['id']}", admin_token).status_code == 204
    assert_error(api.request("GET", f"{SPS}/{sp['id']}", admin_token), 404,
                 f"Could not find Service Provider: {sp['id']}.")
    assert_error(api.request("DELETE", f"{SPS}/{sp['id']}", admin_token), 404)
    assert_error(api.request("PATCH", f"{SPS}/{sp['id']}", admin_token,
                             json={"service_provider": {"enabled": False}}), 404)


def test_duplicate_is_a_conflict(api, admin_token, sps):
    sp = sps()
    r = api.request("PUT", f"{SPS}/{sp['id']}", admin_token, json={"service_provider": sp_ref()})
    assert_error(r, 409, f"Conflict occurred attempting to store service_provider - Duplicate entry: {sp['id']}.")


@pytest.mark.parametrize("body", [
    None,
    {},
    {"service_provider": {}},
    {"service_provider": {"auth_url": f"{REMOTE}/auth"}},                       # sp_url is required
    {"service_provider": sp_ref(auth_url="0af2b4c1d3")},                        # not a URL
    {"service_provider": sp_ref(sp_url="no scheme here")},
    {"service_provider": sp_ref(sp_url="https://" + "x" * 230)},                # longer than Keystone's 225
    {"service_provider": sp_ref(enabled="yes")},
    {"service_provider": sp_ref(id="other")},                                   # no other attributes
    {"service_provider": sp_ref(relay_state_prefix=7)},
    {"service_provider": sp_ref(), "extra": 1},
    ["not", "an", "object"],
])
def test_create_refuses_bad_bodies(api, admin_token, body):
    sp_id = unique("badsp")
    r = api.request("PUT", f"{SPS}/{sp_id}", admin_token, content=json.dumps(body) if body is not None else b"",
                    headers={"Content-Type": "application/json"})
    assert_error(r, 400)
    assert_error(api.request("GET", f"{SPS}/{sp_id}", admin_token), 404)


@pytest.mark.parametrize("body", [
    {"service_provider": {}},                                                   # minProperties 1
    {"service_provider": {"auth_url": "not-a-url"}},
    {"service_provider": {"id": "renamed"}},
    {"service_provider": {"enabled": None}},
    {"other": {}},
])
def test_update_refuses_bad_bodies(api, admin_token, sps, body):
    sp = sps()
    assert_error(api.request("PATCH", f"{SPS}/{sp['id']}", admin_token, json=body), 400)
    assert api.request("GET", f"{SPS}/{sp['id']}", admin_token).json()["service_provider"] == sp


def test_admin_only(api, admin_token, demo_token, sps):
    sp = sps()
    for method, path, body in (("GET", SPS, None), ("GET", f"{SPS}/{sp['id']}", None),
                               ("PUT", f"{SPS}/{unique('sp')}", {"service_provider": sp_ref()}),
                               ("PATCH", f"{SPS}/{sp['id']}", {"service_provider": {"enabled": True}}),
                               ("DELETE", f"{SPS}/{sp['id']}", None)):
        assert_error(api.request(method, path, demo_token, json=body), 403)
        assert_error(api.request(method, path, None, json=body), 401)
    assert api.request("GET", f"{SPS}/{sp['id']}", admin_token).json()["service_provider"] == sp


def test_tokens_list_the_enabled_service_providers(api, admin_token, sps):
    def token_sps(response) -> list[dict] | None:
        assert response.status_code in (200, 201), response.text
        return response.json()["token"].get("service_providers")

    auth = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": ADMIN_PASSWORD}}}}}
    enabled, disabled = sps(enabled=True), sps()
    wanted = {"id": enabled["id"], "auth_url": enabled["auth_url"], "sp_url": enabled["sp_url"]}
    issued = api.request("POST", TOKENS, json=auth)   # unscoped too, as Keystone
    assert wanted in token_sps(issued) and disabled["id"] not in {s["id"] for s in token_sps(issued)}
    token = issued.headers["X-Subject-Token"]
    validated = api.request("GET", TOKENS, admin_token, headers={"X-Subject-Token": admin_token})
    assert wanted in token_sps(validated)
    assert all(set(s) == {"id", "auth_url", "sp_url"} for s in token_sps(validated))
    nocatalog = api.request("GET", TOKENS + "?nocatalog", admin_token, headers={"X-Subject-Token": token})
    assert wanted in token_sps(nocatalog)

    # Disabled (or gone): no longer listed; with none enabled the key is absent, as Keystone.
    api.request("PATCH", f"{SPS}/{enabled['id']}", admin_token, json={"service_provider": {"enabled": False}})
    after = token_sps(api.request("GET", TOKENS, admin_token, headers={"X-Subject-Token": token}))
    assert after is None or enabled["id"] not in {s["id"] for s in after}
    remaining = api.request("GET", SPS, admin_token, params={"enabled": "true"}).json()["service_providers"]
    if not remaining:
        assert after is None


# -- the identity provider ---------------------------------------------------------------------
def saml_auth(token: str, sp_id: str, **identity) -> dict:
    return {"auth": {"identity": {"methods": ["token"], "token": {"id": token}, **identity},
                     "scope": {"service_provider": {"id": sp_id}}}}


@pytest.fixture(scope="module")
def xmlsec1():
    require_tools({"xmlsec1": "xmlsec1"}, "SAML signatures (pysaml2)")


def metadata_cert(api) -> str:
    r = api.request("GET", METADATA)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/xml"), r.text
    return etree.fromstring(r.content).findtext(".//ds:X509Certificate", namespaces=NS).strip()


def verify_with_metadata(api, tmp_path, xml: bytes, node: str = "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"):
    """xmlsec1's verdict on the signature of ``xml`` with the metadata's certificate."""
    cert = tmp_path / "idp.pem"
    cert.write_text(f"-----BEGIN CERTIFICATE-----\n{metadata_cert(api)}\n-----END CERTIFICATE-----\n")
    message = tmp_path / "message.xml"
    message.write_bytes(xml)
    return subprocess.run(["xmlsec1", "--verify", "--pubkey-cert-pem", str(cert), "--id-attr:ID", node,
                           str(message)], capture_output=True, text=True)


def test_metadata(api, xmlsec1):
    r = api.request("GET", METADATA)
    assert r.status_code == 200, r.text
    root = etree.fromstring(r.content)
    assert root.tag == f"{{{NS['md']}}}EntityDescriptor"
    entity = root.get("entityID")
    assert entity.endswith("/identity/v3/OS-FEDERATION/saml2/idp")
    idp = root.find("md:IDPSSODescriptor", NS)
    assert idp.get("protocolSupportEnumeration") == NS["samlp"]
    assert idp.find("md:KeyDescriptor", NS).get("use") == "signing"
    sso = idp.find("md:SingleSignOnService", NS)
    assert sso.get("Location").endswith("/identity/v3/OS-FEDERATION/saml2/sso")
    assert sso.get("Binding") == "urn:oasis:names:tc:SAML:2.0:bindings:URI"
    assert idp.findtext("md:NameIDFormat", namespaces=NS) == "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
    # The signing pair was made once, in the data directory, and stays.
    keys = api.cloud.identity.saml_idp.keys()
    assert keys.cert_file.startswith(str(api.cloud.settings.data_dir))
    assert metadata_cert(api) in open(keys.cert_file).read().replace("\n", "")


def test_saml2_assertion_of_a_project_token(api, admin_token, sps, xmlsec1, tmp_path):
    project = make_project(api, admin_token)
    user = make_user(api, admin_token, project=project["id"])
    group = api.request("POST", f"{V3}/groups", admin_token, json={"group": {"name": unique("k2kg")}}).json()["group"]
    assert api.request("PUT", f"{V3}/groups/{group['id']}/users/{user['id']}", admin_token).status_code == 204
    token = api.request("POST", TOKENS, json=password_auth(user["name"], "pw-1234", {"project": {
        "id": project["id"]}})).headers["X-Subject-Token"]
    try:
        sp = sps(enabled=True)
        r = api.request("POST", SAML2, json=saml_auth(token, sp["id"]))
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/xml")
        assert (r.headers["X-sp-url"], r.headers["X-auth-url"]) == (sp["sp_url"], sp["auth_url"])
        response = etree.fromstring(r.content)
        assert response.tag == f"{{{NS['samlp']}}}Response" and response.get("Destination") == sp["sp_url"]
        assert response.get("InResponseTo") is None
        entity = etree.fromstring(api.request("GET", METADATA).content).get("entityID")
        assert response.findtext("saml:Issuer", namespaces=NS) == entity
        assert response.find("samlp:Status/samlp:StatusCode", NS).get("Value") == \
            "urn:oasis:names:tc:SAML:2.0:status:Success"
        assertion = response.find("saml:Assertion", NS)
        assert assertion.find("ds:Signature", NS) is not None
        assert assertion.findtext("saml:Subject/saml:NameID", namespaces=NS) == user["name"]
        confirmation = assertion.find("saml:Subject/saml:SubjectConfirmation", NS)
        assert confirmation.get("Method") == "urn:oasis:names:tc:SAML:2.0:cm:bearer"
        assert confirmation.find("saml:SubjectConfirmationData", NS).get("Recipient") == sp["sp_url"]
        attributes = {a.get("Name"): [v.text for v in a.findall("saml:AttributeValue", NS)]
                      for a in assertion.findall("saml:AttributeStatement/saml:Attribute", NS)}
        assert attributes["openstack_user"] == [user["name"]]
        assert attributes["openstack_user_domain"] == ["Default"]
        assert "member" in attributes["openstack_roles"]
        assert attributes["openstack_project"] == [project["name"]]
        assert attributes["openstack_project_domain"] == ["Default"]
        groups = [json.loads(v.removeprefix("JSON:")) for v in attributes["openstack_groups"]]
        assert groups == [{"name": group["name"], "domain": {"name": "Default"}}]
        verified = verify_with_metadata(api, tmp_path, r.content)
        assert verified.returncode == 0, verified.stderr
        # Changed after signing: xmlsec1 refuses it.
        tampered = r.content.replace(project["name"].encode(), b"admin", 1)
        assert tampered != r.content and verify_with_metadata(api, tmp_path, tampered).returncode != 0
        # No groups: no openstack_groups attribute, as Keystone.
        assert api.request("DELETE", f"{V3}/groups/{group['id']}/users/{user['id']}", admin_token).status_code == 204
        token = api.request("POST", TOKENS, json=password_auth(user["name"], "pw-1234", {"project": {
            "id": project["id"]}})).headers["X-Subject-Token"]
        again = etree.fromstring(api.request("POST", SAML2, json=saml_auth(token, sp["id"])).content)
        names = {a.get("Name") for a in again.findall(".//saml:Attribute", NS)}
        assert names == {"openstack_user", "openstack_user_domain", "openstack_roles", "openstack_project",
                         "openstack_project_domain"}
    finally:
        api.request("DELETE", f"{V3}/groups/{group['id']}", admin_token)
        api.request("DELETE", f"{V3}/users/{user['id']}", admin_token)
        api.request("DELETE", f"{V3}/projects/{project['id']}", admin_token)


def test_saml2_ecp_envelope(api, admin_token, sps, xmlsec1, tmp_path):
    sp = sps(enabled=True, relay_state_prefix="k2k:")
    r = api.request("POST", f"{SAML2}/ecp", json=saml_auth(admin_token, sp["id"]))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/xml") and r.headers["X-sp-url"] == sp["sp_url"]
    envelope = etree.fromstring(r.content)
    assert envelope.tag == f"{{{NS['S']}}}Envelope"
    relay = envelope.find("S:Header/ecp:RelayState", NS)
    assert relay.text.startswith("k2k:") and len(relay.text) > len("k2k:")
    assert relay.get(f"{{{NS['S']}}}mustUnderstand") == "1"
    assert relay.get(f"{{{NS['S']}}}actor") == "http://schemas.xmlsoap.org/soap/actor/next"
    response = envelope.find("S:Body/samlp:Response", NS)
    assert response.get("Destination") == sp["sp_url"]
    verified = verify_with_metadata(api, tmp_path, r.content)
    assert verified.returncode == 0, verified.stderr
    # Each envelope has its own RelayState and assertion.
    again = etree.fromstring(api.request("POST", f"{SAML2}/ecp", json=saml_auth(admin_token, sp["id"])).content)
    assert again.find("S:Header/ecp:RelayState", NS).text != relay.text
    assert again.find(".//saml:Assertion", NS).get("ID") != response.find("saml:Assertion", NS).get("ID")


@pytest.mark.parametrize("path", [SAML2, f"{SAML2}/ecp"])
def test_saml2_refusals(api, admin_token, sps, path):
    enabled, disabled = sps(enabled=True), sps()
    assert_error(api.request("POST", path, json=saml_auth(admin_token, disabled["id"])), 403,
                 f"Service Provider {disabled['id']} is disabled")
    assert_error(api.request("POST", path, json=saml_auth(admin_token, "no-such-sp")), 404,
                 "Could not find Service Provider: no-such-sp.")
    assert_error(api.request("POST", path, json=saml_auth("not-a-token", enabled["id"])), 404)
    user = make_user(api, admin_token)  # no default project: its token is unscoped
    unscoped = api.request("POST", TOKENS, json=password_auth(user["name"], "pw-1234"))
    assert "project" not in unscoped.json()["token"]
    assert_error(api.request("POST", path, json=saml_auth(unscoped.headers["X-Subject-Token"], enabled["id"])), 403,
                 "You are not authorized to perform the requested action: Use a project scoped token when "
                 "attempting to create a SAML assertion.")
    system = api.token("admin", ADMIN_PASSWORD, system=True)
    assert_error(api.request("POST", path, json=saml_auth(system, enabled["id"])), 403)
    # Only the token method: a password is no credential here.
    password = {"user": {"name": "admin", "domain": {"id": "default"}, "password": ADMIN_PASSWORD}}
    bad = saml_auth(admin_token, enabled["id"])
    bad["auth"]["identity"] = {"methods": ["password"], "password": password}
    assert_error(api.request("POST", path, json=bad), 400)
    bad = saml_auth(admin_token, enabled["id"], password=password)
    assert_error(api.request("POST", path, json=bad), 400)
    for body in ({}, {"auth": {}}, {"auth": {"identity": {"token": {"id": admin_token}}}},
                 {"auth": {"identity": {"token": {}}, "scope": {"service_provider": {"id": enabled["id"]}}}},
                 {"auth": {"identity": {"token": {"id": admin_token}}, "scope": {"project": {"id": "x"}}}},
                 [1, 2], "text"):
        assert_error(api.request("POST", path, json=body), 400)
    assert api.request("GET", path).status_code == 405
    api.request("DELETE", f"{V3}/users/{user['id']}", admin_token)
