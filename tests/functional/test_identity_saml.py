"""The SAML 2.0 front end of federation against a real SAML identity provider (pysaml2's
IdP server on loopback, tests/saml_idp.py): ECP with keystoneauth's real
``v3samlpassword`` plugin and the ``openstack`` CLI, WebSSO to a trusted dashboard, and
the Responses pocketstack must refuse -- forged, for another audience, expired,
replayed, unsolicited."""

from __future__ import annotations

import base64
import html
import json
import os
import re
import subprocess
import threading
import time

import httpx
import pytest
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_identity_federation import FED, IDPS, V3, put
from test_identity_trusts import assert_error

from pocketstack.testing.harness import free_port

from cloudproc import BIN
from conftest import unique
from support import IN_CI, require_tools

try:
    from keystoneauth1 import exceptions as ks_exc
    from keystoneauth1 import loading, session
    from lxml import etree

    from pocketstack.identity.saml import (
        PAOS_MEDIA_TYPE,
        PAOS_VERSION,
        SESSION_COOKIE,
        PendingRequests,
        SamlFrontEnd,
        mellon_attributes,
    )
    from pocketstack.identity.saml_sp import Asserted
    from pocketstack.identity.websso import WebSso
    from saml_idp import SamlUser, TestIdp
except ImportError as missing:  # the saml extra (pysaml2) and keystoneauth1[saml2] (lxml)
    if IN_CI:
        raise
    pytest.skip(f"SAML tests need the 'saml' extra and lxml: {missing}", allow_module_level=True)

SP_ENTITY = "https://pocketstack.test/sp"
DASHBOARD = "https://dashboard.test/auth/websso/"
PAOS = {"Accept": f"text/html, {PAOS_MEDIA_TYPE}", "PAOS": PAOS_VERSION}
NS = {"S": "http://schemas.xmlsoap.org/soap/envelope/", "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
      "paos": "urn:liberty:paos:2003-08"}


@pytest.fixture(scope="module")
def saml_idp(tmp_path_factory):
    require_tools({"xmlsec1": "xmlsec1"}, "SAML signatures (pysaml2)")
    idp = TestIdp(tmp_path_factory.mktemp("saml"), users={"alice": SamlUser("wonderland", {
        "uid": ["alice"], "mail": ["alice@example.org"], "eduPersonAffiliation": ["staff", "member"]})},
        browser_user="alice")
    server = idp.serve()
    yield idp
    server.shutdown()


@pytest.fixture(scope="module")
def keystone_url(api):
    """The in-process cloud over real HTTP, for keystoneauth and the CLI."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(api.cloud.asgi_app(), host="127.0.0.1", port=port, log_config=None,
                                           access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, name="pocketstack-saml", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}/identity/v3"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def idp(api, admin_token, saml_idp, monkeypatch):
    """An identity provider whose remote id is the SAML IdP's entityID, with a ``saml2``
    protocol mapping mellon's attributes: the user by ``uid``, a provisioned project,
    the ``staff`` affiliation into a group."""
    group = api.request("POST", f"{V3}/groups", admin_token, json={"group": {"name": unique("sg")}}).json()["group"]
    idp_id, mapping_id, project = unique("saml"), unique("smap"), unique("sproj")
    put(api, admin_token, f"{FED}/mappings/{mapping_id}", "mapping", {"rules": [
        {"local": [{"user": {"name": "{0}", "email": "{1}"}},
                   {"projects": [{"name": project, "roles": [{"name": "member"}]}]}],
         "remote": [{"type": "MELLON_uid"}, {"type": "MELLON_mail"}]},
        {"local": [{"group": {"id": group["id"]}}],
         "remote": [{"type": "MELLON_eduPersonAffiliation", "any_one_of": ["staff"]}]},
    ]})
    body = put(api, admin_token, f"{IDPS}/{idp_id}", "identity_provider",
               {"enabled": True, "remote_ids": [saml_idp.entity_id]})
    put(api, admin_token, f"{IDPS}/{idp_id}/protocols/saml2", "protocol",
        {"mapping_id": mapping_id, "remote_id_attribute": "MELLON_IDP"})
    monkeypatch.setattr(api.cloud.identity, "saml", SamlFrontEnd(api.cloud.identity.saml.pending,
                                                                  (str(saml_idp.metadata_file),), SP_ENTITY))
    monkeypatch.setattr(api.cloud.identity, "websso", WebSso((DASHBOARD,)))
    yield {"id": idp_id, "group": group, "project": project, "domain_id": body["domain_id"]}
    assert api.request("DELETE", f"{IDPS}/{idp_id}", admin_token).status_code == 204


def saml_plugin(keystone_url, saml_idp, idp_id, **options):
    return loading.get_plugin_loader("v3samlpassword").load_from_options(
        auth_url=keystone_url, identity_provider=idp_id, protocol="saml2",
        identity_provider_url=saml_idp.ecp_url, username="alice", **{"password": "wonderland", **options})


def test_ecp_with_keystoneauth_and_the_cli(api, admin_token, keystone_url, saml_idp, idp):
    access = saml_plugin(keystone_url, saml_idp, idp["id"], project_name=idp["project"],
                         project_domain_id=idp["domain_id"]).get_access(session.Session())
    assert access.project_name == idp["project"] and "member" in access.role_names
    assert access._data["token"]["methods"] == ["saml2", "token"]
    user = api.request("GET", f"{V3}/users/{access.user_id}", admin_token).json()["user"]
    assert (user["name"], user["domain_id"], user["email"]) == ("alice", idp["domain_id"], "alice@example.org")
    unscoped = saml_plugin(keystone_url, saml_idp, idp["id"]).get_access(session.Session())
    assert unscoped.user_id == access.user_id and unscoped.project_id is None
    assert unscoped._data["token"]["user"]["OS-FEDERATION"] == {
        "groups": [{"id": idp["group"]["id"]}], "identity_provider": {"id": idp["id"]}, "protocol": {"id": "saml2"}}
    # A wrong password: the identity provider refuses, and so does the plugin.
    with pytest.raises(ks_exc.ClientException):
        saml_plugin(keystone_url, saml_idp, idp["id"], password="nope").get_access(session.Session())
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    cli = subprocess.run([str(BIN / "openstack"), "--os-auth-type", "v3samlpassword", "--os-auth-url", keystone_url,
                          "--os-identity-provider", idp["id"], "--os-protocol", "saml2",
                          "--os-identity-provider-url", saml_idp.ecp_url, "--os-username", "alice",
                          "--os-password", "wonderland", "--os-project-name", idp["project"],
                          "--os-project-domain-id", idp["domain_id"], "token", "issue", "-f", "json"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0, cli.stderr
    issued = json.loads(cli.stdout)
    assert (issued["user_id"], issued["project_id"]) == (access.user_id, access.project_id)


def ecp_request(api, idp_id: str, protocol: str = "saml2") -> tuple[str, str]:
    """The SP's first ECP answer: (AuthnRequest id, the PAOS responseConsumerURL)."""
    response = api.request("GET", f"{IDPS}/{idp_id}/protocols/{protocol}/auth", headers=PAOS)
    assert response.status_code == 200 and response.headers["content-type"] == PAOS_MEDIA_TYPE, response.text
    envelope = etree.fromstring(response.content)
    request = envelope.find("S:Body/samlp:AuthnRequest", NS)
    consumer = envelope.find("S:Header/paos:Request", NS).get("responseConsumerURL")
    assert request.get("AssertionConsumerServiceURL") == consumer
    return request.get("ID"), consumer


def post_ecp(api, saml_idp, consumer: str, response: str):
    path = "/identity" + consumer.split("/identity", 1)[1]
    answer = api.request("POST", path, content=saml_idp.ecp_envelope(consumer, response),
                         headers={"Content-Type": PAOS_MEDIA_TYPE}, follow_redirects=False)
    api.client.cookies.clear()  # the shared client's jar: each test sends the session it means to
    return answer


def session_token(api, answer, idp_id: str, protocol: str = "saml2"):
    """The consumer's 303 (mellon's) back to the ``auth`` URL with the session cookie,
    and that URL's answer to the cookie: the token."""
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert location.endswith(f"/identity/v3/OS-FEDERATION/identity_providers/{idp_id}/protocols/{protocol}/auth")
    cookie = answer.cookies[SESSION_COOKIE]
    return api.request("GET", "/identity" + location.split("/identity", 1)[1],
                       headers={"Cookie": f"{SESSION_COOKIE}={cookie}"})


def refused(response, reason: str) -> None:
    assert_error(response, 401)
    assert response.json()["error"]["message"].startswith("Invalid SAML response: "), response.text
    assert reason in response.json()["error"]["message"], response.text


def test_ecp_responses_refused(api, saml_idp, idp):
    request_id, consumer = ecp_request(api, idp["id"])
    make = saml_idp.response
    refused(post_ecp(api, saml_idp, consumer, make(request_id, consumer, SP_ENTITY, "alice", forged=True)),
            "its signature does not verify with the identity provider's metadata")
    refused(post_ecp(api, saml_idp, consumer, make(request_id, consumer, "https://other.test/sp", "alice")),
            "its audience is not this service provider")
    refused(post_ecp(api, saml_idp, consumer, make(request_id, consumer, SP_ENTITY, "alice", expired=True)),
            "it has expired")
    refused(post_ecp(api, saml_idp, consumer, make("_never-asked", consumer, SP_ENTITY, "alice")),
            "it answers no outstanding request")
    refused(post_ecp(api, saml_idp, consumer, "<not-a-response/>"), "no SOAP envelope")
    refused(api.request("POST", f"{V3}/mellon/paosResponse", content=b"\x00garbage",
                        headers={"Content-Type": PAOS_MEDIA_TYPE}), "not XML")
    # The request is still outstanding: a valid Response signs in -- once.
    good = make(request_id, consumer, SP_ENTITY, "alice")
    first = session_token(api, post_ecp(api, saml_idp, consumer, good), idp["id"])
    assert first.status_code == 201, first.text
    assert first.json()["token"]["methods"] == ["saml2"] and first.headers["X-Subject-Token"]
    refused(post_ecp(api, saml_idp, consumer, good), "it answers no outstanding request")


def test_ecp_state_is_shared_by_processes(api, saml_idp, idp, monkeypatch):
    """The Response and the session may reach another API process than the request left
    from: a front end of its own (a new object on the same database and keys) takes them."""
    request_id, consumer = ecp_request(api, idp["id"])
    identity = api.cloud.identity
    monkeypatch.setattr(identity, "saml", SamlFrontEnd(PendingRequests(identity.saml.pending.db),
                                                       identity.saml.metadata_files, SP_ENTITY))
    answer = post_ecp(api, saml_idp, consumer, saml_idp.response(request_id, consumer, SP_ENTITY, "alice"))
    assert session_token(api, answer, idp["id"]).status_code == 201


def not_signed_in(response) -> None:
    assert_error(response, 401)
    assert "signs in by SAML" in response.json()["error"]["message"], response.text


def test_ecp_session_cookie_is_for_its_sign_in_only(api, admin_token, saml_idp, idp):
    request_id, consumer = ecp_request(api, idp["id"])
    answer = post_ecp(api, saml_idp, consumer, saml_idp.response(request_id, consumer, SP_ENTITY, "alice"))
    cookie = answer.cookies[SESSION_COOKIE]
    auth = f"{IDPS}/{idp['id']}/protocols/saml2/auth"
    mapping_id = api.request("GET", f"{auth[:-5]}", admin_token).json()["protocol"]["mapping_id"]
    put(api, admin_token, f"{IDPS}/{idp['id']}/protocols/mapped", "protocol", {"mapping_id": mapping_id})
    # Brought to another protocol's auth URL, tampered with or missing: no session, so
    # the URL is ECP's start again (401 for a client that is not starting ECP).
    for url, value in ((f"{IDPS}/{idp['id']}/protocols/mapped/auth", cookie), (auth, cookie[:-4] + "AAAA"),
                       (auth, admin_token)):  # a token is no session, though sealed with the same keys
        not_signed_in(api.request("GET", url, headers={"Cookie": f"{SESSION_COOKIE}={value}"}))
    not_signed_in(api.request("GET", auth))
    # The session itself gives a token as long as it lasts.
    assert api.request("GET", auth, headers={"Cookie": f"{SESSION_COOKIE}={cookie}"}).status_code == 201


def test_mapped_protocol_of_a_saml_idp(api, admin_token, saml_idp, idp):
    mapping_id = api.request("GET", f"{IDPS}/{idp['id']}/protocols/saml2", admin_token).json()["protocol"]["mapping_id"]
    put(api, admin_token, f"{IDPS}/{idp['id']}/protocols/mapped", "protocol", {"mapping_id": mapping_id})
    request_id, consumer = ecp_request(api, idp["id"], "mapped")
    answer = session_token(api, post_ecp(api, saml_idp, consumer,
                                         saml_idp.response(request_id, consumer, SP_ENTITY, "alice")),
                           idp["id"], "mapped")
    assert answer.status_code == 201, answer.text
    assert answer.json()["token"]["methods"] == ["mapped"]
    assert answer.json()["token"]["user"]["OS-FEDERATION"]["protocol"] == {"id": "mapped"}


def test_websso_response_is_no_ecp_one(api, saml_idp, idp):
    """A Response to a WebSSO request, brought to the ECP consumer, is refused."""
    start = f"{V3}/auth/OS-FEDERATION/identity_providers/{idp['id']}/protocols/saml2/websso?origin={DASHBOARD}"
    form = httpx.get(api.request("GET", start, follow_redirects=False).headers["location"], timeout=10).text
    signed = base64.b64decode(html.unescape(re.search(r'name="SAMLResponse" value="([^"]+)"', form).group(1)))
    _, consumer = ecp_request(api, idp["id"])
    refused(post_ecp(api, saml_idp, consumer, re.sub(r"^<\?xml[^>]*\?>\s*", "", signed.decode())),
            "it is not addressed to this assertion consumer")


def test_auth_without_ecp_headers_points_to_websso(api, idp):
    not_signed_in(api.request("GET", f"{IDPS}/{idp['id']}/protocols/saml2/auth"))


def websso_round_trip(api, start: str) -> str:
    """Follow WebSSO like a browser: to the identity provider and its form back to the
    service provider; the page pocketstack answers."""
    redirect = api.request("GET", start, follow_redirects=False)
    assert redirect.status_code == 302, redirect.text
    form = httpx.get(redirect.headers["location"], timeout=10).text
    action = html.unescape(re.search(r'action="([^"]+)"', form).group(1))
    fields = {m.group(1): html.unescape(m.group(2))
              for m in re.finditer(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form)}
    answer = api.request("POST", "/identity" + action.split("/identity", 1)[1], data=fields)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html"), answer.text
    return answer.text


@pytest.mark.parametrize("by_idp", [True, False])
def test_websso_posts_the_token_to_the_dashboard(api, admin_token, idp, by_idp):
    origin = DASHBOARD.upper().replace("HTTPS://", "https://")  # the host compared lower-cased
    start = (f"{V3}/auth/OS-FEDERATION/identity_providers/{idp['id']}/protocols/saml2/websso?origin={DASHBOARD}"
             if by_idp else f"{V3}/auth/OS-FEDERATION/websso/saml2?origin={DASHBOARD}")
    page = websso_round_trip(api, start)
    assert f'action="{DASHBOARD}"' in page and origin
    token = re.search(r'name="token" id="token" value="([^"]+)"', page).group(1)
    shown = api.request("GET", f"{V3}/auth/tokens", admin_token, headers={"X-Subject-Token": token})
    assert shown.status_code == 200, shown.text
    assert shown.json()["token"]["methods"] == ["saml2"]
    assert shown.json()["token"]["user"]["name"] == "alice"


def test_websso_refuses_untrusted_or_missing_origin(api, idp):
    start = f"{V3}/auth/OS-FEDERATION/identity_providers/{idp['id']}/protocols/saml2/websso"
    untrusted = api.request("GET", f"{start}?origin=https://evil.test/", follow_redirects=False)
    assert_error(untrusted, 401, "https://evil.test/ is not a trusted dashboard host")
    assert_error(api.request("GET", start, follow_redirects=False), 400,
                 "Request must have an origin query parameter")
    assert_error(api.request("GET", f"{V3}/auth/OS-FEDERATION/websso/nosuch?origin={DASHBOARD}"), 401,
                 "Missing entity ID from environment")  # Keystone's: no front end serves it, no assertion
    assert_error(api.request("POST", f"{V3}/mellon/postResponse", data={"RelayState": ""}), 400,
                 "Expected a SAMLResponse form field (HTTP-POST binding)")
    refused(api.request("POST", f"{V3}/mellon/postResponse", data={"SAMLResponse": "bm90IHhtbA=="}), "ParseError")


def test_service_provider_metadata(api, idp):
    response = api.request("GET", f"{V3}/mellon/metadata")
    assert response.status_code == 200 and "samlmetadata" in response.headers["content-type"]
    assert f'entityID="{SP_ENTITY}"' in response.text
    assert "/identity/v3/mellon/paosResponse" in response.text and "/identity/v3/mellon/postResponse" in response.text


def test_default_entity_id_is_the_public_url_not_the_host(api, keystone_url, saml_idp, idp, monkeypatch):
    """The endpoints follow the URL a request came by; the entityID (the audience) never does."""
    monkeypatch.setattr(api.cloud.identity, "saml", SamlFrontEnd(api.cloud.identity.saml.pending,
                                                                  (str(saml_idp.metadata_file),)))
    public = api.request("GET", f"{V3}/mellon/metadata").text
    entity = re.search(r'entityID="([^"]+)"', public).group(1)
    assert entity.endswith("/identity/v3/mellon/metadata")
    served = httpx.get(f"{keystone_url}/mellon/metadata", headers={"Host": "elsewhere.test"}, timeout=10).text
    assert f'entityID="{entity}"' in served and "http://elsewhere.test/identity/v3/mellon/paosResponse" in served


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=1024), form=st.dictionaries(st.sampled_from(["SAMLResponse", "RelayState", "x"]),
                                                           st.text(max_size=100), max_size=3),
       origin=st.text(max_size=50))
def test_saml_routes_answer_anything_with_4xx(api, idp, body, form, origin):
    """Whatever a client sends the consumers and WebSSO: a 4xx in Keystone's format, never a 500."""
    paos = "".join(c for c in origin if c.isascii() and c.isprintable()).strip()
    answers = [
        api.request("POST", f"{V3}/mellon/paosResponse", content=body, headers={"Content-Type": PAOS_MEDIA_TYPE}),
        api.request("POST", f"{V3}/mellon/postResponse", data=form),
        api.request("GET", f"{V3}/auth/OS-FEDERATION/websso/saml2", params={"origin": origin},
                    follow_redirects=False),
        api.request("GET", f"{IDPS}/{idp['id']}/protocols/saml2/auth", headers={**PAOS, "PAOS": paos}),
    ]
    for answer in answers:
        assert answer.status_code in (200, 302, 303, 400, 401), answer.text
        if answer.status_code >= 400:
            assert answer.json()["error"]["code"] == answer.status_code


def test_mellon_routes_absent_without_saml(api):
    assert_error(api.request("GET", f"{V3}/mellon/metadata"), 404)
    assert_error(api.request("POST", f"{V3}/mellon/paosResponse", content=b"<x/>"), 404)


def test_attributes_named_as_mellon_exports_them():
    asserted = Asserted(in_response_to="_1", issuer="https://idp.test", name_id="alice@idp", attributes={
        "urn:oid:0.9.2342.19200300.100.1.1": ["alice"], "uid": ["alice"], "groups": ["a", "b"]})
    assert mellon_attributes(asserted) == {
        "MELLON_urn:oid:0.9.2342.19200300.100.1.1": "alice", "MELLON_uid": "alice", "MELLON_groups": "a;b",
        "MELLON_IDP": "https://idp.test", "MELLON_NAME_ID": "alice@idp", "REMOTE_USER": "alice@idp"}
