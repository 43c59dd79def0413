"""A real SAML 2.0 identity provider for tests: pysaml2's IdP ``Server`` behind a small
HTTP server on loopback, signing assertions with an RSA key made here (tests/pki.py).

- ``POST /ecp`` (SOAP binding, HTTP Basic): ECP's identity provider step -- a SOAP
  envelope around an AuthnRequest in, an ``ecp:Response`` envelope around the signed
  Response out, as Shibboleth's or Keycloak's ECP endpoint;
- ``GET /sso`` (HTTP-Redirect binding): WebSSO; the browser's user is
  :attr:`TestIdp.browser_user` (already signed in), answered with pysaml2's auto-posting
  HTML form (HTTP-POST binding) to the service provider.

:meth:`TestIdp.response` makes Responses on demand for the refusal tests: another key,
another audience, already expired.
"""

from __future__ import annotations

import base64
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, BINDING_SOAP
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_UNSPECIFIED, NameID
from saml2.server import Server
from saml2.sigver import get_xmlsec_binary

from pki import issue, name
from pocketstack.testing.harness import free_port

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
ECP_NS = "urn:oasis:names:tc:SAML:2.0:profiles:SSO:ecp"


@dataclass
class SamlUser:
    password: str
    attributes: dict[str, list[str]]


@dataclass
class TestIdp:
    """The identity provider ``entity_id`` at ``url`` (its metadata: :attr:`metadata_file`)."""

    directory: Path
    users: dict[str, SamlUser]
    browser_user: str = ""
    port: int = field(default_factory=free_port)

    __test__ = False  # not a test class

    def __post_init__(self):
        self.url = f"http://127.0.0.1:{self.port}"
        self.entity_id = f"{self.url}/idp"
        self.cert_file, self.key_file = issue(name(CN="saml-idp"), key=rsa.generate_private_key(65537, 2048)).write(
            self.directory, "saml-idp")
        # The same entity signing with a key its metadata does not name (a forger).
        self.forged = issue(name(CN="saml-idp"), key=rsa.generate_private_key(65537, 2048)).write(
            self.directory, "saml-forger")
        self.server = self._server(self.cert_file, self.key_file)
        self.metadata_file = self.directory / "saml-idp.xml"
        self.metadata_file.write_bytes(create_metadata_string(None, config=self.server.config))
        self.ecp_url, self.sso_url = f"{self.url}/ecp", f"{self.url}/sso"

    def _server(self, cert_file: str, key_file: str, lifetime_minutes: int = 15) -> Server:
        config = IdPConfig()
        config.load({
            "entityid": self.entity_id,
            "xmlsec_binary": get_xmlsec_binary(),
            "key_file": key_file,
            "cert_file": cert_file,
            "service": {"idp": {
                "endpoints": {"single_sign_on_service": [(f"{self.url}/ecp", BINDING_SOAP),
                                                         (f"{self.url}/sso", BINDING_HTTP_REDIRECT)]},
                "policy": {"default": {"lifetime": {"minutes": lifetime_minutes}, "name_form": NAME_FORMAT_URI,
                                       "attribute_restrictions": None}},
                "sign_assertion": True,
            }},
        })
        return Server(config=config)

    # -- Responses ---------------------------------------------------------------------------
    def response(self, request_id: str, acs_url: str, audience: str, user: str, *, forged: bool = False,
                 expired: bool = False) -> str:
        """A signed Response (XML text) for ``user`` answering ``request_id``."""
        server = self.server
        if forged:
            server = self._server(*self.forged)
        elif expired:
            server = self._server(self.cert_file, self.key_file, lifetime_minutes=-10)
        signed = server.create_authn_response(
            self.users[user].attributes, request_id, acs_url, audience, userid=user,
            name_id=NameID(format=NAMEID_FORMAT_UNSPECIFIED, text=user), sign_assertion=True,
            authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"})
        return re.sub(r"^<\?xml[^>]*\?>\s*", "", str(signed))

    @staticmethod
    def ecp_envelope(acs_url: str, response: str) -> str:
        """An ``ecp:Response`` SOAP envelope around ``response`` (its text kept as signed)."""
        return (f'<S:Envelope xmlns:S="{SOAP_NS}"><S:Header><ecp:Response xmlns:ecp="{ECP_NS}" '
                f'S:mustUnderstand="1" S:actor="http://schemas.xmlsoap.org/soap/actor/next" '
                f'AssertionConsumerServiceURL="{acs_url}"/></S:Header><S:Body>{response}</S:Body></S:Envelope>')

    # -- HTTP ----------------------------------------------------------------------------------
    def check_password(self, authorization: str | None) -> str | None:
        scheme, _, encoded = (authorization or "").partition(" ")
        if scheme.lower() != "basic":
            return None
        user, _, password = base64.b64decode(encoded).decode().partition(":")
        return user if user in self.users and self.users[user].password == password else None

    def ecp(self, body: bytes, authorization: str | None) -> tuple[int, str]:
        user = self.check_password(authorization)
        if user is None:
            return 401, "bad credentials"
        request = self.server.parse_authn_request(body.decode(), BINDING_SOAP).message
        acs_url = request.assertion_consumer_service_url
        signed = self.response(request.id, acs_url, request.issuer.text, user)
        return 200, self.ecp_envelope(acs_url, signed)

    def sso(self, query: str) -> tuple[int, str]:
        args = {k: v[0] for k, v in parse_qs(query).items()}
        request = self.server.parse_authn_request(args["SAMLRequest"], BINDING_HTTP_REDIRECT).message
        acs_url = request.assertion_consumer_service_url
        signed = self.response(request.id, acs_url, request.issuer.text, self.browser_user)
        form = self.server.apply_binding(BINDING_HTTP_POST, signed, acs_url, args.get("RelayState", ""),
                                         response=True)
        return 200, form["data"]

    def serve(self) -> ThreadingHTTPServer:
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status: int, text: str, content_type: str) -> None:
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self._answer(*idp.ecp(body, self.headers.get("Authorization")), "text/xml")

            def do_GET(self):  # noqa: N802
                self._answer(*idp.sso(urlsplit(self.path).query), "text/html")

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=server.serve_forever, name="saml-idp", daemon=True).start()
        return server


if __name__ == "__main__":
    # A standing IdP for keystone-tempest-plugin's SAML ECP scenario (docs/compatibility.md):
    #   python tests/saml_idp.py PORT DIRECTORY   -> user alice/wonderland, metadata in DIRECTORY
    import sys
    import time

    port, directory = int(sys.argv[1]), Path(sys.argv[2])
    directory.mkdir(parents=True, exist_ok=True)
    idp = TestIdp(directory, {"alice": SamlUser("wonderland", {"uid": ["alice"], "mail": ["alice@example.org"]})},
                  browser_user="alice", port=port)
    idp.serve()
    print(f"SAML IdP {idp.entity_id}: ECP {idp.ecp_url}, metadata {idp.metadata_file}", flush=True)
    while True:
        time.sleep(3600)
