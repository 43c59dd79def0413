"""Kerberos sign-in (SPNEGO, ``Authorization: Negotiate``) against a real MIT KDC made
here (tests/kdc.py): ``kinit`` and the real ``openstack`` CLI with keystoneauth's
``v3kerberos`` plugin, keystoneauth's ``v3fedkerb`` through federation's ``kerberos``
protocol, and the tokens pocketstack must refuse -- none, garbage, replayed, expired,
of an unknown principal or of a realm not accepted -- with a 401 asking for a ticket."""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import subprocess
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading, session
from test_identity_federation import FED, IDPS, V3, put
from test_identity_trusts import assert_error, grant

from pocketstack.common import config
from pocketstack.identity.kerberos import KerberosFrontEnd, Negotiated, split_principal

from cloudproc import BIN, identity_over_http
from conftest import unique
from kdc import Kdc, require_kdc

TOKENS = f"{V3}/auth/tokens"
OTHER_REALM = "PARTNER.TEST"  # trusted by the service's realm (cross-realm tickets)
KERBEROS_AUTH = {"auth": {"identity": {"methods": ["kerberos"], "kerberos": {}}}}
UNSUPPORTED = "Attempted to authenticate with an unsupported method: kerberos."


@pytest.fixture(scope="module")
def kdc(tmp_path_factory):
    """The realm, its HTTP/localhost keytab, and this process using its krb5.conf (the
    in-process cloud accepts tickets with the process's Kerberos library)."""
    require_kdc()
    directory = tmp_path_factory.mktemp("kdc")
    kdc = Kdc(directory, others=(OTHER_REALM,)).start()
    try:
        kdc.add_service("HTTP/localhost", directory / "http.keytab")
        with pytest.MonkeyPatch.context() as mp:
            for name, value in kdc.env.items():
                mp.setenv(name, value)
            yield kdc
    finally:
        kdc.stop()


@pytest.fixture(scope="module")
def keystone_url(api):
    """The in-process cloud over real HTTP on ``localhost`` (the host of the service
    principal the clients ask tickets for)."""
    with identity_over_http(api.cloud.asgi_app(), host="localhost") as url:
        yield url


def front_end(kdc: Kdc, **overrides) -> KerberosFrontEnd:
    return KerberosFrontEnd(**{"enabled": True, "keytab": str(kdc.keytab), "service_principal": kdc.service,
                               **overrides})


@pytest.fixture
def kerberos_on(api, kdc, monkeypatch):
    """``kerberos`` in ``auth_methods``, with the test realm's keytab."""
    identity = api.cloud.identity
    monkeypatch.setattr(identity, "kerberos", front_end(kdc))
    monkeypatch.setattr(identity.tokens, "methods", [*identity.tokens.methods, "kerberos"])
    return identity.kerberos


@pytest.fixture
def alice(api, admin_token, kdc, tmp_path):
    """A user of the Default domain with a role on a project, the principal of the same
    name, and a ticket cache holding its TGT."""
    name, project_name = unique("kalice"), unique("kproj")
    user = api.request("POST", f"{V3}/users", admin_token, json={"user": {"name": name, "domain_id": "default"}})
    assert user.status_code == 201, user.text
    project = api.request("POST", f"{V3}/projects", admin_token,
                          json={"project": {"name": project_name, "domain_id": "default"}})
    assert project.status_code == 201, project.text
    user_id, project_id = user.json()["user"]["id"], project.json()["project"]["id"]
    grant(api, admin_token, project_id, user_id, "member")
    principal = kdc.add_user(name, "alice-password")
    ccache = tmp_path / "alice.ccache"
    env = kdc.kinit(principal, ccache)
    return {"name": name, "id": user_id, "project": project_name, "project_id": project_id, "principal": principal,
            "ccache": ccache, "env": env}


def negotiate_token(ccache, host: str = "localhost") -> str:
    """An ``Authorization`` value made with the ticket cache's TGT (python-gssapi as the client)."""
    import gssapi
    creds = gssapi.Credentials(usage="initiate", store={"ccache": f"FILE:{ccache}"})
    context = gssapi.SecurityContext(name=gssapi.Name(f"HTTP@{host}", gssapi.NameType.hostbased_service),
                                     creds=creds, usage="initiate", mech=gssapi.MechType.kerberos)
    return "Negotiate " + base64.b64encode(context.step()).decode()


def cli_env(extra: dict[str, str]) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("OS_")}, **extra}


def test_openstack_token_issue_with_v3kerberos(api, admin_token, kerberos_on, keystone_url, alice):
    cli = subprocess.run([str(BIN / "openstack"), "--os-auth-type", "v3kerberos", "--os-auth-url", keystone_url,
                          "--os-project-name", alice["project"], "--os-project-domain-id", "default",
                          "token", "issue", "-f", "json"],
                         env=cli_env(alice["env"]), capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0, cli.stderr
    issued = json.loads(cli.stdout)
    assert (issued["user_id"], issued["project_id"]) == (alice["id"], alice["project_id"])
    # The token works for another call, and says how it was obtained.
    r = api.request("GET", TOKENS, admin_token, headers={"X-Subject-Token": issued["id"]})
    assert r.status_code == 200, r.text
    assert r.json()["token"]["methods"] == ["kerberos"]
    r = api.request("GET", f"{V3}/auth/projects", issued["id"])
    assert r.status_code == 200, r.text
    assert [p["name"] for p in r.json()["projects"]] == [alice["project"]]


def test_mutual_authentication_required(kerberos_on, keystone_url, alice, monkeypatch):
    """keystoneauth's plugin in this process with ``mutual_auth=required``: the 201 carries
    the server's token (``WWW-Authenticate: Negotiate <token>``) and it verifies."""
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{alice['ccache']}")
    auth = loading.get_plugin_loader("v3kerberos").load_from_options(
        auth_url=keystone_url, mutual_auth="required", project_name=alice["project"], project_domain_id="default")
    access = auth.get_access(session.Session())
    assert (access.user_id, access.project_id) == (alice["id"], alice["project_id"])
    assert access._data["token"]["methods"] == ["kerberos"]


def test_no_ticket_is_a_negotiate_challenge(api, kerberos_on, keystone_url, alice, tmp_path):
    r = api.client.post(TOKENS, json=KERBEROS_AUTH)
    assert_error(r, 401, "Kerberos authentication failed: send a Kerberos ticket as "
                         "'Authorization: Negotiate <token>' (kinit first).")
    assert r.headers["WWW-Authenticate"] == "Negotiate"
    # The CLI without a ticket: refused, with that sentence.
    env = cli_env({**alice["env"], "KRB5CCNAME": f"FILE:{tmp_path / 'empty.ccache'}"})
    cli = subprocess.run([str(BIN / "openstack"), "--os-auth-type", "v3kerberos", "--os-auth-url", keystone_url,
                          "token", "issue"], env=env, capture_output=True, text=True, timeout=120)
    assert cli.returncode != 0 and "Negotiate" in cli.stderr, cli.stderr


def test_bad_tokens_are_401_never_500(api, kerberos_on, alice):
    good = negotiate_token(alice["ccache"])
    for header, reason in [
        ("Negotiate", "send a Kerberos ticket as 'Authorization: Negotiate <token>' (kinit first)"),
        ("Basic YWxpY2U6cHc=", "send a Kerberos ticket as 'Authorization: Negotiate <token>' (kinit first)"),
        ("Negotiate %%%not-base64%%%", "the Negotiate token is not base64"),
        ("Negotiate " + base64.b64encode(b"garbage" * 20).decode(), None),
        ("Negotiate " + base64.b64encode(bytes(range(256))).decode(), None),
        # A real token cut short.
        ("Negotiate " + base64.b64encode(base64.b64decode(good.split()[1])[:60]).decode(), None),
    ]:
        r = api.client.post(TOKENS, json=KERBEROS_AUTH, headers={"Authorization": header})
        assert_error(r, 401)
        message = r.json()["error"]["message"]
        assert message.startswith("Kerberos authentication failed: "), message
        if reason:
            assert message == f"Kerberos authentication failed: {reason}."
        assert r.headers["WWW-Authenticate"] == "Negotiate"
    # The real token signs in once; the same header again is a replay.
    r = api.client.post(TOKENS, json=KERBEROS_AUTH, headers={"Authorization": good})
    assert r.status_code == 201, r.text
    assert r.json()["token"]["user"]["id"] == alice["id"] and r.headers["WWW-Authenticate"].startswith("Negotiate ")
    r = api.client.post(TOKENS, json=KERBEROS_AUTH, headers={"Authorization": good})
    assert_error(r, 401)
    assert "replay" in r.json()["error"]["message"].lower(), r.text


def test_unknown_principal_and_realm_not_accepted(api, admin_token, kdc, kerberos_on, alice, tmp_path, monkeypatch):
    stranger = kdc.add_user(unique("kstranger"), "stranger-password")
    kdc.kinit(stranger, tmp_path / "stranger.ccache")
    r = api.client.post(TOKENS, json=KERBEROS_AUTH, headers={"Authorization": negotiate_token(
        tmp_path / "stranger.ccache")})
    name = split_principal(stranger)[0]
    assert_error(r, 401, f"Unable to lookup user {name} (Kerberos principal {stranger}) in domain Default.")
    # A principal of the partner realm (a cross-realm ticket for HTTP/localhost) named as
    # a user of the Default domain: not accepted while only the service's realm is.
    partner = kdc.add_user(alice["name"], "partner-password", realm=OTHER_REALM)
    kdc.kinit(partner, tmp_path / "partner.ccache")
    header = negotiate_token(tmp_path / "partner.ccache")
    r = api.client.post(TOKENS, json=KERBEROS_AUTH, headers={"Authorization": header})
    assert_error(r, 401, f"Kerberos authentication failed: principals of realm '{OTHER_REALM}' are not "
                         "accepted here.")
    assert r.headers["WWW-Authenticate"] == "Negotiate"
    # Listed in kerberos_realms, it signs in as the user its name names.
    monkeypatch.setattr(api.cloud.identity, "kerberos", front_end(kdc, realms=(kdc.realm, OTHER_REALM)))
    r = api.client.post(TOKENS, json=KERBEROS_AUTH, headers={"Authorization": negotiate_token(
        tmp_path / "partner.ccache")})
    assert r.status_code == 201, r.text
    assert r.json()["token"]["user"]["id"] == alice["id"]
    # Only the partner realm accepted: the service realm's own principals are refused.
    monkeypatch.setattr(api.cloud.identity, "kerberos", front_end(kdc, realms=(OTHER_REALM,)))
    r = api.client.post(TOKENS, json=KERBEROS_AUTH, headers={"Authorization": negotiate_token(alice["ccache"])})
    assert_error(r, 401, f"Kerberos authentication failed: principals of realm '{kdc.realm}' are not "
                         "accepted here.")
    # A disabled user is refused as Keystone refuses it.
    monkeypatch.setattr(api.cloud.identity, "kerberos", front_end(kdc))
    r = api.request("PATCH", f"{V3}/users/{alice['id']}", admin_token, json={"user": {"enabled": False}})
    assert r.status_code == 200, r.text
    r = api.client.post(TOKENS, json=KERBEROS_AUTH, headers={"Authorization": negotiate_token(alice["ccache"])})
    assert_error(r, 401, f"User {alice['id']} is disabled.")


def test_expired_ticket(api, kdc, kerberos_on, alice, tmp_path):
    """A service ticket that expired before it was presented (the KDC issues a 5-second
    TGT; the server allows the realm's 2 seconds of clock skew)."""
    ccache = tmp_path / "short.ccache"
    kdc.kinit(alice["principal"], ccache, lifetime="5s")
    header = negotiate_token(ccache)
    time.sleep(9)
    r = api.client.post(TOKENS, json=KERBEROS_AUTH, headers={"Authorization": header})
    assert_error(r, 401)
    assert "expired" in r.json()["error"]["message"].lower(), r.text
    assert r.headers["WWW-Authenticate"] == "Negotiate"


def test_method_disabled_in_settings(api, kdc, alice):
    """Without ``kerberos`` in ``auth_methods`` (the default), Keystone's 401 whatever the token."""
    assert "kerberos" not in api.cloud.identity.tokens.methods
    for headers in ({}, {"Authorization": negotiate_token(alice["ccache"])}):
        assert_error(api.client.post(TOKENS, json=KERBEROS_AUTH, headers=headers), 401, UNSUPPORTED)


def test_v3fedkerb_through_federation(api, admin_token, kdc, kerberos_on, keystone_url, alice, monkeypatch):
    """Federation's ``kerberos`` protocol: the principal's attributes through a mapping
    (an ephemeral user named by ``KRB5_NAME``; the realm is the provider's remote id)."""
    idp_id, mapping_id, project = unique("krbidp"), unique("kmap"), unique("kfproj")
    put(api, admin_token, f"{FED}/mappings/{mapping_id}", "mapping", {"rules": [
        {"local": [{"user": {"name": "{0}"}}, {"projects": [{"name": project, "roles": [{"name": "member"}]}]}],
         "remote": [{"type": "KRB5_NAME"}, {"type": "AUTH_TYPE", "any_one_of": ["Negotiate"]}]}]})
    put(api, admin_token, f"{IDPS}/{idp_id}", "identity_provider", {"enabled": True, "remote_ids": [kdc.realm]})
    put(api, admin_token, f"{IDPS}/{idp_id}/protocols/kerberos", "protocol",
        {"mapping_id": mapping_id, "remote_id_attribute": "KRB5_REALM"})
    try:
        monkeypatch.setenv("KRB5CCNAME", f"FILE:{alice['ccache']}")
        auth = loading.get_plugin_loader("v3fedkerb").load_from_options(
            auth_url=keystone_url, identity_provider=idp_id, protocol="kerberos", mutual_auth="required")
        access = auth.get_access(session.Session())
        token = access._data["token"]
        assert token["methods"] == ["kerberos"] and token["user"]["name"] == alice["name"]
        assert token["user"]["OS-FEDERATION"]["protocol"] == {"id": "kerberos"}
        assert token["user"]["id"] != alice["id"]  # a shadow user of the provider's domain
        # Without a ticket: the challenge.
        r = api.client.get(f"{IDPS}/{idp_id}/protocols/kerberos/auth")
        assert_error(r, 401)
        assert r.headers["WWW-Authenticate"] == "Negotiate"
        monkeypatch.setenv("KRB5CCNAME", f"FILE:{alice['ccache']}.missing")
        with pytest.raises(ks_exc.Unauthorized):
            loading.get_plugin_loader("v3fedkerb").load_from_options(
                auth_url=keystone_url, identity_provider=idp_id, protocol="kerberos").get_access(session.Session())
    finally:
        assert api.request("DELETE", f"{IDPS}/{idp_id}", admin_token).status_code == 204


def test_settings_checked_at_start(tmp_path, monkeypatch):
    def front(**settings):
        return KerberosFrontEnd.from_settings(config.load(overrides=settings, environ={}))

    assert not front().enabled
    # Whether python-gssapi is installed here or not: without it, kerberos stops the start.
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ValueError, match=r"the kerberos method needs python-gssapi \(pip install "):
        front(auth_methods="password,kerberos")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object())
    with pytest.raises(ValueError, match="setting 'kerberos_keytab': .* cannot be read"):
        front(auth_methods="password,kerberos", kerberos_keytab=str(tmp_path / "missing.keytab"))
    keytab = tmp_path / "http.keytab"
    keytab.write_bytes(b"\x05\x02")
    on = front(auth_methods="password,kerberos", kerberos_keytab=str(keytab), kerberos_realms="A.TEST, B.TEST",
               kerberos_user_domain="corp")
    assert (on.enabled, on.realms, on.user_domain) == (True, ("A.TEST", "B.TEST"), "corp")
    assert on.handles("kerberos") and not on.handles("openid")


def test_principal_parts():
    assert split_principal("alice@EXAMPLE.ORG") == ("alice", "EXAMPLE.ORG")
    assert split_principal("HTTP/host.example@EXAMPLE.ORG") == ("HTTP/host.example", "EXAMPLE.ORG")
    assert split_principal(r"odd\@name@EXAMPLE.ORG") == (r"odd\@name", "EXAMPLE.ORG")
    assert split_principal("nobody") == ("nobody", "")
    assert Negotiated("bob@R.TEST").assertion() == {"REMOTE_USER": "bob@R.TEST", "AUTH_TYPE": "Negotiate",
                                                    "KRB5_NAME": "bob", "KRB5_REALM": "R.TEST"}
    assert Negotiated("bob@R.TEST", b"\x01\x02").response_headers == {"WWW-Authenticate": "Negotiate AQI="}


def test_keytab_without_the_service_key(api, kdc, kerberos_on, alice, monkeypatch):
    """A keytab lacking the service principal's key: logged, and a 503 (not a 500)."""
    monkeypatch.setattr(api.cloud.identity, "kerberos", front_end(kdc, service_principal=f"HTTP/elsewhere@{kdc.realm}"))
    r = api.client.post(TOKENS, json=KERBEROS_AUTH, headers={"Authorization": negotiate_token(alice["ccache"])})
    assert_error(r, 503, "Kerberos authentication is unavailable: the server has no usable key for its service "
                         "principal.")


# What a client may put in ``Authorization``: random bytes as a Negotiate token, and any
# printable text (the header's other schemes, broken base64, stray spaces).
AUTHORIZATION = st.one_of(
    st.binary(max_size=600).map(lambda raw: "Negotiate " + base64.b64encode(raw).decode()),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=200),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=200).map(lambda t: "Negotiate " + t))


@settings(max_examples=50, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(header=AUTHORIZATION, federation=st.booleans())
def test_fuzzed_negotiate_headers_are_401(api, kdc, header, federation):
    """Whatever ``Authorization`` holds, both entry points answer a Keystone 401 asking
    for a ticket (never a 5xx)."""
    identity = api.cloud.identity
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(identity, "kerberos", front_end(kdc))
        mp.setattr(identity.tokens, "methods", [*identity.tokens.methods, "kerberos"])
        if federation:  # the front end refuses before any identity provider is looked up
            r = api.client.post(f"{IDPS}/fuzz-idp/protocols/kerberos/auth", headers={"Authorization": header})
        else:
            r = api.client.post(TOKENS, json=KERBEROS_AUTH, headers={"Authorization": header})
    assert_error(r, 401)
    assert r.json()["error"]["message"].startswith("Kerberos authentication failed: "), r.text
    assert r.headers["WWW-Authenticate"] == "Negotiate"
