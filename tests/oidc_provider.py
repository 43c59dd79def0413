"""The OpenID provider the OIDC tests sign in against: Authlib's OAuth 2.0 authorization
server (password and client_credentials grants, RFC 9068 JWT access tokens signed RS256
and ES256, RFC 7662 introspection; the authorization code grant with OpenID Connect ID
tokens and PKCE behind an interactive login page, for WebSSO) on a small Flask app on loopback.

``python tests/oidc_provider.py PORT [REALM]`` serves one on its own (client
``pocketstack``, secret ``cli-secret``; user ``alice``, password ``wonderland``) until
interrupted: the identity benchmark's OIDC workload signs in through it, and with REALM
``/realms/master`` (Keycloak's URLs, and its public ``admin-cli`` client)
keystone-tempest-plugin's OIDC scenario tests (tools/tempest/run.sh --plugin keystone)."""

from __future__ import annotations

import contextlib
import html
import secrets
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field

import jwt
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from authlib.oidc.core import AuthorizationCodeMixin, UserInfo
from authlib.oidc.core.grants import OpenIDCode
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from flask import Flask, jsonify, request
from joserfc.jwk import KeySet, import_key
from werkzeug.serving import make_server

AUDIENCE = "pocketstack"
# The relying party WebSSO signs in as (its ID tokens' audience).
SSO_CLIENT, SSO_SECRET = "pocketstack-sso", "sso-secret"


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str
    audience: str = AUDIENCE
    opaque: bool = False  # gets opaque access tokens (checked by introspection)
    public: bool = False  # authenticates with no secret (Keycloak's admin-cli)
    # Where the authorization code flow may send a browser back (none: no such flow).
    redirect_uris: list[str] = field(default_factory=list)

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope):
        return scope

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret):
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        return method == ("none" if self.public else "client_secret_basic")

    def check_response_type(self, response_type):
        return response_type == "code" and bool(self.redirect_uris)

    def check_grant_type(self, grant_type):
        return grant_type in ("password", "client_credentials") or (
            grant_type == "authorization_code" and bool(self.redirect_uris))


@dataclass
class User:
    id: str
    password: str
    email: str
    groups: list[str]

    def get_user_id(self):
        return self.id


@dataclass
class Token(TokenMixin):
    """An access token the provider issued (kept for introspection)."""

    client: Client
    user: User | None
    response: dict
    issued: int = field(default_factory=lambda: int(time.time()))

    @property
    def expires_at(self) -> int:
        return self.issued + self.response["expires_in"]

    def check_client(self, client):
        return client.client_id == self.client.client_id

    def get_scope(self):
        return self.response.get("scope", "")

    def get_expires_in(self):
        return self.response["expires_in"]

    def is_expired(self):
        return self.expires_at < time.time()

    def is_revoked(self):
        return False

    def get_user(self):
        return self.user

    def get_client(self):
        return self.client


@dataclass
class Code(AuthorizationCodeMixin):
    """An authorization code, with the OpenID Connect nonce and PKCE challenge of its request."""

    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: User
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    issued: float = field(default_factory=time.time)

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return int(self.issued)


def private_jwk(key, kid: str) -> dict:
    algorithm = jwt.algorithms.RSAAlgorithm if isinstance(key, rsa.RSAPrivateKey) else jwt.algorithms.ECAlgorithm
    return {**algorithm.to_jwk(key, as_dict=True), "kid": kid}


@dataclass
class Provider:
    """The OpenID provider: its issuer URL, clients, users and signing keys (the JWKS
    publishes the public halves of ``keys``, in order)."""

    issuer: str = ""
    keys: dict[str, object] = field(default_factory=dict)
    clients: dict[str, Client] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    opaque_tokens: dict[str, Token] = field(default_factory=dict)
    codes: dict[str, Code] = field(default_factory=dict)

    def sign(self, claims: dict, kid: str, key=None, algorithm: str = "RS256") -> str:
        """A token of this provider's shape, signed by hand (for the tokens it would not issue)."""
        base = {"iss": self.issuer, "aud": AUDIENCE, "sub": "alice", "preferred_username": "alice",
                "email": "alice@example.org", "exp": int(time.time()) + 300}
        return jwt.encode({**base, **claims}, key or self.keys[kid], algorithm=algorithm, headers={"kid": kid})


def serve_provider(provider: Provider, port: int):
    app = Flask("oidc-provider")
    server = AuthorizationServer(app, query_client=provider.clients.get,
                                 save_token=lambda token, request: provider.opaque_tokens.__setitem__(
                                     token["access_token"], Token(request.client, request.user, token)))

    class Tokens(JWTBearerTokenGenerator):
        def __init__(self, kid: str, alg: str):
            super().__init__(provider.issuer, alg=alg)
            self.kid = kid

        def get_jwks(self):
            return KeySet.import_key_set({"keys": [private_jwk(provider.keys[self.kid], self.kid)]})

        def get_audiences(self, client, user, scope):
            return client.audience

        def get_extra_claims(self, client, grant_type, user, scope):
            if user is None:
                return {}
            return {"preferred_username": user.id, "email": user.email, "groups": user.groups}

        def access_token_generator(self, client, grant_type, user, scope):
            if client.opaque:
                return secrets.token_urlsafe(24)
            return super().access_token_generator(client, grant_type, user, scope)

    class Password(grants.ResourceOwnerPasswordCredentialsGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "none"]  # "none": a public client's

        def authenticate_user(self, username, password):
            user = provider.users.get(username)
            return user if user and secrets.compare_digest(user.password, password) else None

    class Introspection(IntrospectionEndpoint):
        def query_token(self, token_string, token_type_hint):
            return provider.opaque_tokens.get(token_string)

        def introspect_token(self, token):
            return {"active": True, "iss": provider.issuer, "aud": token.client.audience,
                    "client_id": token.client.client_id, "sub": token.user.id if token.user else token.client.client_id,
                    "exp": token.expires_at, "scope": token.get_scope()}

        def check_permission(self, token, client, request):
            return client.client_id == "introspector"

    server.register_grant(Password)
    server.register_grant(grants.ClientCredentialsGrant)
    server.register_token_generator("password", Tokens("rsa-1", "RS256"))
    server.register_token_generator("client_credentials", Tokens("ec-1", "ES256"))
    server.register_endpoint(Introspection)

    prefix = urllib.parse.urlsplit(provider.issuer).path.rstrip("/")  # a realm's, as Keycloak's
    register_code_flow(app, server, provider, prefix)

    @app.get(prefix + "/.well-known/openid-configuration")
    def discovery():
        issuer = provider.issuer
        return jsonify({"issuer": issuer, "token_endpoint": issuer + "/token", "jwks_uri": issuer + "/jwks",
                        "introspection_endpoint": issuer + "/introspect",
                        "authorization_endpoint": issuer + "/authorize", "response_types_supported": ["code"],
                        "code_challenge_methods_supported": ["S256"],
                        "grant_types_supported": ["password", "client_credentials", "authorization_code"],
                        "id_token_signing_alg_values_supported": ["RS256", "ES256"]})

    @app.get(prefix + "/jwks")
    def jwks():
        return jsonify({"keys": [{k: v for k, v in private_jwk(key, kid).items() if k not in ("d", "p", "q", "dp", "dq",
                                                                                            "qi")}
                                 for kid, key in provider.keys.items()]})

    app.add_url_rule(prefix + "/token", "token", server.create_token_response, methods=["POST"])
    # Keycloak's path of it, where keystone-tempest-plugin's KeycloakClient posts.
    app.add_url_rule(prefix + "/protocol/openid-connect/token", "keycloak-token", server.create_token_response,
                     methods=["POST"])
    app.add_url_rule(prefix + "/introspect", "introspect", lambda: server.create_endpoint_response("introspection"),
                     methods=["POST"])
    return make_server("127.0.0.1", port, app, threaded=True)


def standard_provider(port: int, realm: str = "") -> Provider:
    """The provider the tests use: an RSA and an EC key, the clients, user ``alice``;
    with ``realm`` (``/realms/master``) its URLs are under that path, as Keycloak's."""
    provider = Provider(keys={"rsa-1": rsa.generate_private_key(65537, 2048), "ec-1": ec.generate_private_key(
        ec.SECP256R1())})
    provider.clients = {c.client_id: c for c in (
        Client("pocketstack", "cli-secret"), Client("robot", "robot-secret"),
        Client("other-app", "other-secret", audience="other-app"),
        Client("opaque-app", "opaque-secret", opaque=True), Client("introspector", "intro-secret"),
        Client("admin-cli", "", public=True), Client(SSO_CLIENT, SSO_SECRET, audience=SSO_CLIENT))}
    provider.users = {"alice": User("alice", "wonderland", "alice@example.org", ["staff", "dev"])}
    provider.issuer = f"http://127.0.0.1:{port}{realm}"
    return provider


LOGIN_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Test provider: sign in</title></head><body>
<h1>Sign in to the test provider</h1>{error}
<form method="post" action="{action}?{query}">
<label for="username">User name</label><input id="username" name="username" autocomplete="username">
<label for="password">Password</label><input id="password" name="password" type="password">
<button type="submit">Sign in</button>
</form></body></html>"""


def register_code_flow(app, server, provider: Provider, prefix: str) -> None:
    """The authorization code flow with OpenID Connect ID tokens (RS256, key ``rsa-1``)
    and PKCE, behind an interactive login page: ``GET /authorize`` shows the form,
    ``POST /authorize`` checks the password and sends the browser back with a code."""

    class AuthorizationCode(grants.AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic"]

        def save_authorization_code(self, code, request):
            payload = request.payload
            provider.codes[code] = Code(code, request.client.client_id, payload.redirect_uri, request.scope,
                                        request.user, payload.data.get("nonce"), payload.data.get("code_challenge"),
                                        payload.data.get("code_challenge_method"))

        def query_authorization_code(self, code, client):
            item = provider.codes.get(code)
            if item and item.client_id == client.client_id and time.time() - item.issued < 60:
                return item
            return None

        def delete_authorization_code(self, authorization_code):
            provider.codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code):
            return authorization_code.user

    class OpenID(OpenIDCode):
        def exists_nonce(self, nonce, request):
            return any(c.nonce == nonce for c in provider.codes.values())

        def resolve_client_private_key(self, client):
            return import_key(private_jwk(provider.keys["rsa-1"], "rsa-1"))

        def get_client_algorithm(self, client):
            return "RS256"

        def get_encode_header(self, client):
            return {"alg": "RS256", "kid": "rsa-1"}

        def get_client_claims(self, client):
            return {"iss": provider.issuer, "aud": [client.get_client_id()]}

        def generate_user_info(self, user, scope):
            return UserInfo(sub=user.id, preferred_username=user.id, email=user.email, groups=user.groups)

    server.register_grant(AuthorizationCode, [OpenID(require_nonce=True), CodeChallenge(required=True)])

    def login_page(error: str) -> str:
        return LOGIN_PAGE.format(error=error, action=prefix + "/authorize",
                                 query=html.escape(request.query_string.decode()))

    @app.get(prefix + "/authorize")
    def authorize_page():
        try:
            server.get_consent_grant(end_user=None)
        except OAuth2Error as error:
            return f"bad authorization request: {error.error}", 400
        return login_page("")

    @app.post(prefix + "/authorize")
    def authorize():
        user = provider.users.get(request.form.get("username", ""))
        if user is None or not secrets.compare_digest(user.password, request.form.get("password", "")):
            return login_page('<p role="alert">Wrong user name or password.</p>'), 401
        return server.create_authorization_response(grant_user=user)


@contextlib.contextmanager
def running_provider():
    """:func:`standard_provider` served on a free loopback port, for a test's duration."""
    from pocketstack.testing.harness import free_port

    port = free_port()
    provider = standard_provider(port)
    server = serve_provider(provider, port)
    thread = threading.Thread(target=server.serve_forever, name="oidc-provider", daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        thread.join(timeout=10)


if __name__ == "__main__":
    port, realm = int(sys.argv[1]), (sys.argv[2] if len(sys.argv) > 2 else "")
    provider = standard_provider(port, realm)
    print(f"OpenID provider at {provider.issuer}", flush=True)
    serve_provider(provider, port).serve_forever()
