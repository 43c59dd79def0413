"""X.509 client certificates on the API's TLS listener: a real listener on loopback
(common/tls.py) with CAs and certificates made here, federation's ``x509`` sign-in and
Keystone's tokenless authorization through keystoneauth's own plugin and session, the
handshake refusing certificates the CAs did not issue (or expired ones), and the plain
port ignoring anything a client sends as certificate headers."""

from __future__ import annotations

import dataclasses
import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from keystoneauth1 import exceptions as ksa_exceptions
from keystoneauth1 import loading, session
from test_identity_federation import FED, IDPS, V3, put
from test_identity_trusts import assert_error, role_id

from pki import issue, loopback_server, name
from pocketstack.common import tls
from pocketstack.identity.x509 import certificate_attributes
from pocketstack.testing.harness import free_port

from cloudproc import serving
from conftest import unique

UNAUTHENTICATED = "The request you have made requires authentication."


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """CA ``trusted`` (a trusted tokenless issuer), CA ``partner`` (in the listener's
    bundle, not trusted for tokenless), CA ``stranger`` (neither); the server's and the
    clients' certificates, as files."""
    d = tmp_path_factory.mktemp("pki")
    trusted = issue(name(C="US", O="openstack", OU="keystone", CN="Trusted CA"), ca=True)
    partner = issue(name(O="partner", CN="Partner CA"), ca=True)
    stranger = issue(name(O="stranger", CN="Stranger CA"), ca=True)
    server = loopback_server(trusted)
    files = {"ca": str(d / "ca.pem"), "bundle": str(d / "bundle.pem")}
    Path(files["ca"]).write_bytes(trusted.cert.public_bytes(serialization.Encoding.PEM))
    Path(files["bundle"]).write_bytes(b"".join(c.cert.public_bytes(serialization.Encoding.PEM)
                                               for c in (trusted, partner)))
    files["server"], files["server_key"] = server.write(d, "server")
    clients = {
        "alice": issue(x509.Name([x509.NameAttribute(oid, value) for oid, value in (
            (NameOID.COUNTRY_NAME, "US"), (NameOID.ORGANIZATION_NAME, "ACME"),
            (NameOID.ORGANIZATIONAL_UNIT_NAME, "eng"), (NameOID.ORGANIZATIONAL_UNIT_NAME, "ops"),
            (NameOID.COMMON_NAME, "alice"),
            (NameOID.EMAIL_ADDRESS, "alice@acme.example"))]), trusted, san=[x509.RFC822Name("alice@acme.example")]),
        "expired": issue(name(O="ACME", OU="eng", CN="old"), trusted, days=(-30, -1)),
        "partner": issue(name(O="partner", OU="eng", CN="bob"), partner),
        "stranger": issue(name(O="ACME", OU="eng", CN="eve"), stranger),
        "selfsigned": issue(name(O="ACME", OU="eng", CN="mallory")),
    }
    for stem, issued in clients.items():
        files[stem], files[stem + "_key"] = issued.write(d, stem)
    files["issuer_dn"] = "CN=Trusted CA,OU=keystone,O=openstack,C=US"
    files["partner_dn"] = "CN=Partner CA,O=partner"
    return files


@pytest.fixture(scope="module")
def listener(api, pki):
    """The cloud's app on a TLS listener (client certificates from the bundle's CAs),
    as ``pocketstack up`` serves it on ``tls_port``; its identity URL."""
    port = free_port()
    settings = dataclasses.replace(api.cloud.settings, host="127.0.0.1", tls_port=port, tls_cert_file=pki["server"],
                                   tls_key_file=pki["server_key"], tls_client_ca_file=pki["bundle"])
    sock = tls.listen(settings)
    with serving(tls.config(api.cloud.asgi_app(), settings), sockets=[sock], name="tls-listener"):
        yield f"https://127.0.0.1:{port}/identity/v3"
    sock.close()


@pytest.fixture(scope="module")
def x509_idp(api, admin_token, pki):
    """Keystone's convention: the identity provider of an issuer is named by the sha256
    of its DN (tokenless) and lists the DN as its remote id; the ``x509`` protocol maps
    the subject's CN to an ephemeral user in a group holding ``admin`` on a project."""
    group = api.request("POST", f"{V3}/groups", admin_token, json={"group": {"name": unique("xg")}}).json()["group"]
    project = api.request("POST", f"{V3}/projects", admin_token,
                          json={"project": {"name": unique("xp")}}).json()["project"]
    r = api.request("PUT", f"{V3}/projects/{project['id']}/groups/{group['id']}/roles/"
                           f"{role_id(api, admin_token, 'admin')}", admin_token)
    assert r.status_code == 204, r.text
    idp_id, mapping_id = hashlib.sha256(pki["issuer_dn"].encode()).hexdigest(), unique("xmap")
    put(api, admin_token, f"{FED}/mappings/{mapping_id}", "mapping", {"rules": [
        {"local": [{"user": {"name": "{0}", "email": "{1}"}}, {"group": {"id": group["id"]}}],
         "remote": [{"type": "SSL_CLIENT_S_DN_CN"}, {"type": "SSL_CLIENT_S_DN_Email"},
                    {"type": "SSL_CLIENT_S_DN_OU", "any_one_of": ["eng"]}]}]})
    put(api, admin_token, f"{IDPS}/{idp_id}", "identity_provider", {"enabled": True, "remote_ids": [pki["issuer_dn"]]})
    put(api, admin_token, f"{IDPS}/{idp_id}/protocols/x509", "protocol",
        {"mapping_id": mapping_id, "remote_id_attribute": "SSL_CLIENT_I_DN"})
    return {"id": idp_id, "project": project, "group": group}


@pytest.fixture
def trusting(api, pki, monkeypatch):
    """Keystone's ``[tokenless_auth] trusted_issuer``: the trusted CA only."""
    monkeypatch.setattr(api.cloud.identity.tokenless, "trusted_issuers", (pki["issuer_dn"],))


def client_session(pki, who: str | None, auth=None) -> session.Session:
    return session.Session(auth=auth, verify=pki["ca"], cert=(pki[who], pki[who + "_key"]) if who else None)


def tokenless(pki, listener, who: str | None, **scope: str) -> session.Session:
    """keystoneauth's own ``v3tokenlessauth`` plugin, loaded by name as the CLI does."""
    plugin = loading.get_plugin_loader("v3tokenlessauth").load_from_options(auth_url=listener, **scope)
    return client_session(pki, who, plugin)


def list_projects(sess: session.Session):
    return sess.get("/projects", endpoint_filter={"service_type": "identity", "interface": "public"},
                    raise_exc=False)


def test_certificate_attributes_as_mod_ssl(pki):
    pem = Path(pki["alice"]).read_text()
    attributes = certificate_attributes(pem)
    assert attributes["SSL_CLIENT_S_DN"] == "emailAddress=alice@acme.example,CN=alice,OU=ops,OU=eng,O=ACME,C=US"
    assert attributes["SSL_CLIENT_I_DN"] == pki["issuer_dn"]
    assert {k: attributes[k] for k in ("SSL_CLIENT_S_DN_CN", "SSL_CLIENT_S_DN_OU", "SSL_CLIENT_S_DN_OU_1",
                                       "SSL_CLIENT_S_DN_Email", "SSL_CLIENT_I_DN_CN", "SSL_CLIENT_I_DN_C",
                                       "SSL_CLIENT_SAN_Email_0", "SSL_CLIENT_VERIFY", "SSL_CLIENT_M_VERSION")} == {
        "SSL_CLIENT_S_DN_CN": "alice", "SSL_CLIENT_S_DN_OU": "eng", "SSL_CLIENT_S_DN_OU_1": "ops",
        "SSL_CLIENT_S_DN_Email": "alice@acme.example", "SSL_CLIENT_I_DN_CN": "Trusted CA", "SSL_CLIENT_I_DN_C": "US",
        "SSL_CLIENT_SAN_Email_0": "alice@acme.example", "SSL_CLIENT_VERIFY": "SUCCESS", "SSL_CLIENT_M_VERSION": "3"}
    cert = x509.load_pem_x509_certificate(pem.encode())
    assert attributes["SSL_CLIENT_M_SERIAL"] == f"{cert.serial_number:X}"
    assert attributes["SSL_CLIENT_V_END"].endswith(" GMT") and attributes["SSL_CLIENT_CERT"] == pem
    assert attributes["SSL_CLIENT_V_REMAIN"] in ("29", "30")


def test_token_by_client_certificate(pki, listener, x509_idp):
    sess = client_session(pki, "alice")
    r = sess.post(f"{listener}/OS-FEDERATION/identity_providers/{x509_idp['id']}/protocols/x509/auth",
                  authenticated=False)
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    assert token["methods"] == ["x509"] and token["user"]["name"] == "alice"
    assert token["user"]["OS-FEDERATION"] == {"groups": [{"id": x509_idp["group"]["id"]}],
                                              "identity_provider": {"id": x509_idp["id"]}, "protocol": {"id": "x509"}}
    # The token method of POST /v3/auth/tokens takes the same certificate, scoped at once.
    r = sess.post(f"{listener}/auth/tokens", authenticated=False, json={"auth": {
        "identity": {"methods": ["x509"], "x509": {"identity_provider": x509_idp["id"], "protocol": "x509"}},
        "scope": {"project": {"id": x509_idp["project"]["id"]}}}})
    assert r.status_code == 201, r.text
    assert [role["name"] for role in r.json()["token"]["roles"]][:1] == ["admin"]


def test_tokenless_authorization(api, pki, listener, x509_idp, trusting):
    project = x509_idp["project"]
    r = list_projects(tokenless(pki, listener, "alice", project_id=project["id"]))
    assert r.status_code == 200, r.text
    assert project["id"] in [p["id"] for p in r.json()["projects"]]
    r = list_projects(tokenless(pki, listener, "alice", project_name=project["name"], project_domain_id="default"))
    assert r.status_code == 200, r.text
    # Keystone's answers: a project name without its domain, a project that is not there.
    sess = client_session(pki, "alice")
    # No token and no scope header: nothing to act as.
    assert_error(sess.get(f"{listener}/projects", raise_exc=False, authenticated=False), 401, UNAUTHENTICATED)
    r = sess.get(f"{listener}/projects", headers={"X-Project-Name": project["name"]}, raise_exc=False,
                 authenticated=False)
    assert r.status_code == 400 and r.json()["error"]["message"] == (
        "Neither Project Domain ID nor Project Domain Name was provided.")
    r = list_projects(tokenless(pki, listener, "alice", project_id="nope"))
    assert r.status_code == 401, r.text


def test_tokenless_refused(api, pki, listener, x509_idp, trusting):
    project_id = x509_idp["project"]["id"]
    # No client certificate; a certificate of a CA the listener admits but that is not a
    # trusted issuer: no one to act as.
    for who in (None, "partner"):
        r = list_projects(tokenless(pki, listener, who, project_id=project_id))
        assert r.status_code == 401 and r.json()["error"]["message"] == UNAUTHENTICATED, who
    r = client_session(pki, None).post(
        f"{listener}/OS-FEDERATION/identity_providers/{x509_idp['id']}/protocols/x509/auth", authenticated=False,
        raise_exc=False)
    assert_error(r, 401, "Could not find Identity Provider identifier in environment")
    # A certificate its CAs did not issue, an expired one, a self-signed one: the
    # handshake fails, as with mod_ssl's SSLVerifyClient.
    for who in ("stranger", "expired", "selfsigned"):
        # TLS 1.3 clients learn it at their first read: an SSL error or a closed connection.
        with pytest.raises(ksa_exceptions.ConnectionError):
            list_projects(tokenless(pki, listener, who, project_id=project_id))


def test_plain_port_ignores_certificate_headers(api, pki, x509_idp, trusting):
    pem = Path(pki["alice"]).read_text().replace("\n", " ")
    forged = {"SSL-Client-I-DN": pki["issuer_dn"], "SSL-Client-S-DN-CN": "alice", "SSL-Client-Verify": "SUCCESS",
              "SSL-Client-Cert": pem, "X-SSL-Client-I-DN": pki["issuer_dn"], "X-Project-Id": x509_idp["project"]["id"],
              "X-Federation-Ssl-Client-I-Dn": pki["issuer_dn"], "X-Federation-Ssl-Client-S-Dn-Cn": "alice"}
    r = api.request("GET", f"{V3}/projects", headers=forged)
    assert_error(r, 401, UNAUTHENTICATED)
    r = api.request("POST", f"{IDPS}/{x509_idp['id']}/protocols/x509/auth", headers=forged)
    assert_error(r, 401, "Could not find Identity Provider identifier in environment")


def test_openstack_cli_tokenless(pki, listener, x509_idp, trusting):
    """The real client: ``openstack --os-auth-type v3tokenlessauth … project list``."""
    result = subprocess.run(
        [str(Path(sys.executable).parent / "openstack"), "--os-auth-type", "v3tokenlessauth", "--os-auth-url",
         listener, "--os-project-id", x509_idp["project"]["id"], "--os-cert", pki["alice"], "--os-key",
         pki["alice_key"], "--os-cacert", pki["ca"], "--os-identity-api-version", "3", "project", "list",
         "-f", "value", "-c", "ID"], capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(Path(pki["ca"]).parent)})
    assert result.returncode == 0, result.stderr
    assert x509_idp["project"]["id"] in result.stdout.split()


def test_tokenless_local_user(api, admin_token, pki, listener, monkeypatch):
    """A mapping to an existing (``local``) user: tokenless requests act with that user's
    roles on the scope, and a scope where it has none is refused."""
    monkeypatch.setattr(api.cloud.identity.tokenless, "trusted_issuers", (pki["issuer_dn"], pki["partner_dn"]))
    user = api.request("POST", f"{V3}/users", admin_token,
                       json={"user": {"name": unique("bob"), "domain_id": "default"}}).json()["user"]
    project, other = (api.request("POST", f"{V3}/projects", admin_token,
                                  json={"project": {"name": unique("xlp")}}).json()["project"] for _ in range(2))
    r = api.request("PUT", f"{V3}/projects/{project['id']}/users/{user['id']}/roles/"
                           f"{role_id(api, admin_token, 'reader')}", admin_token)
    assert r.status_code == 204, r.text
    idp_id, mapping_id = hashlib.sha256(pki["partner_dn"].encode()).hexdigest(), unique("xlmap")
    put(api, admin_token, f"{FED}/mappings/{mapping_id}", "mapping", {"rules": [
        {"local": [{"user": {"name": user["name"], "domain": {"id": "default"}, "type": "local"}}],
         "remote": [{"type": "SSL_CLIENT_S_DN_O", "any_one_of": ["partner"]}]}]})
    put(api, admin_token, f"{IDPS}/{idp_id}", "identity_provider", {"enabled": True})
    put(api, admin_token, f"{IDPS}/{idp_id}/protocols/x509", "protocol", {"mapping_id": mapping_id})
    sess = tokenless(pki, listener, "partner", project_id=project["id"])
    r = sess.get(f"/projects/{project['id']}", endpoint_filter={"service_type": "identity"}, raise_exc=False)
    assert r.status_code == 200 and r.json()["project"]["id"] == project["id"], r.text
    r = sess.get("/users", endpoint_filter={"service_type": "identity"}, raise_exc=False)
    assert r.status_code == 403, r.text  # a project reader, not an admin
    r = list_projects(tokenless(pki, listener, "partner", project_id=other["id"]))
    assert_error(r, 401, f"User {user['id']} has no access to project {other['id']}")
