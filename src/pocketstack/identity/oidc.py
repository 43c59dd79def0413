"""The OpenID Connect front end of federation: what Apache's ``mod_auth_openidc`` does
before Keystone in its OAuth 2.0 resource-server mode.

keystoneauth's ``v3oidc*`` plugins get an access token from the identity provider's
token endpoint and send it as ``Authorization: Bearer`` to
``/v3/OS-FEDERATION/identity_providers/{idp}/protocols/openid/auth``.  Here the token is
checked for an identity provider configured in ``federation_oidc_file`` -- a JWT against
the provider's JWKS (its signature, ``iss``, ``aud``, ``exp``, ``nbf``), an opaque token
by the provider's introspection endpoint (RFC 7662) -- and its claims become the
assertion the protocol's mapping reads, named as ``mod_auth_openidc`` exports them:
``OIDC_CLAIM_<claim>``, ``HTTP_OIDC_ISS`` (the issuer, Keystone's usual
``remote_id_attribute`` for OpenID Connect) and ``REMOTE_USER`` (``sub``).

JOSE is PyJWT's; the JWKS is fetched (from ``jwks_uri``, else the discovery document)
and kept, fetched again after ``jwks_refresh_interval`` or for a key id it lacks.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pocketstack.identity import errors

if TYPE_CHECKING:
    import httpx
    import jwt
else:  # only a cloud with OpenID Connect providers checks tokens (pocketstack.common.lazy)
    from pocketstack.common.lazy import lazy

    httpx = lazy("httpx")
    jwt = lazy("jwt")

PROTOCOL = "openid"
CLAIM_PREFIX = "OIDC_CLAIM_"
ISSUER_ATTRIBUTE = "HTTP_OIDC_ISS"
ALGORITHMS = ("RS256", "ES256")
# Algorithms a configuration may allow: asymmetric ones only (an HMAC key would be a
# secret shared with the provider; ``none`` is never accepted).
SUPPORTED_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
FETCH_TIMEOUT = 10.0


def _invalid(reason: str, what: str = "access token") -> errors.FederatedAuthFailed:
    return errors.FederatedAuthFailed(reason=f"Invalid OpenID Connect {what}: {reason}")


@dataclass(frozen=True)
class OidcProvider:
    """How to check the tokens of one identity provider (a table of the file)."""

    idp_id: str
    issuer: str
    audience: str
    discovery_url: str = ""
    jwks_uri: str = ""
    introspection_endpoint: str = ""
    client_id: str = ""
    client_secret: str = ""
    # WebSSO (identity/oidc_websso.py): the authorization code flow of ``client_id``.
    authorization_endpoint: str = ""
    token_endpoint: str = ""
    scope: str = "openid email profile"
    algorithms: tuple[str, ...] = ALGORITHMS
    leeway: float = 30.0
    jwks_refresh_interval: float = 3600.0
    jwks_min_refetch_interval: float = 5.0

    @classmethod
    def from_table(cls, idp_id: str, table: Any) -> OidcProvider:
        where = f"federation_oidc_file [{idp_id}]"
        if not isinstance(table, dict):
            raise ValueError(f"{where}: expected a table")
        known = {f.name for f in fields(cls)} - {"idp_id"}
        unknown = sorted(set(table) - known)
        if unknown:
            raise ValueError(f"{where}: unknown keys {', '.join(unknown)}")
        for key in ("issuer", "audience"):
            if not table.get(key):
                raise ValueError(f"{where}: '{key}' is required")
        for key in ("issuer", "audience", "discovery_url", "jwks_uri", "introspection_endpoint", "client_id",
                    "client_secret", "authorization_endpoint", "token_endpoint", "scope"):
            if not isinstance(table.get(key, ""), str):
                raise ValueError(f"{where}: '{key}' must be a string")
        values = dict(table)
        for key in ("discovery_url", "jwks_uri", "introspection_endpoint", "issuer", "authorization_endpoint",
                    "token_endpoint"):
            url = values.get(key, "")
            if url and urlsplit(url).scheme not in ("http", "https"):
                raise ValueError(f"{where}: '{key}' must be an http(s) URL")
        algorithms = values.get("algorithms", list(ALGORITHMS))
        if (not isinstance(algorithms, list) or not algorithms
                or any(a not in SUPPORTED_ALGORITHMS for a in algorithms)):
            raise ValueError(f"{where}: 'algorithms' must be a list of {', '.join(SUPPORTED_ALGORITHMS)}")
        values["algorithms"] = tuple(algorithms)
        for key in ("leeway", "jwks_refresh_interval", "jwks_min_refetch_interval"):
            if key in values and (isinstance(values[key], bool) or not isinstance(values[key], int | float)
                                  or values[key] < 0):
                raise ValueError(f"{where}: '{key}' must be a number of seconds")
        if values.get("introspection_endpoint") and not values.get("client_id"):
            raise ValueError(f"{where}: 'introspection_endpoint' needs 'client_id' (and 'client_secret')")
        return cls(idp_id=idp_id, **values)


class OidcVerifier:
    """The tokens of one provider: its discovery document and JWKS, fetched when needed."""

    def __init__(self, provider: OidcProvider):
        self.provider = provider
        self._lock = threading.Lock()
        self._metadata: dict | None = None
        self._keys: jwt.PyJWKSet | None = None
        self._fetched_at = 0.0

    # -- the provider's documents ----------------------------------------------------------
    def _get(self, url: str) -> dict:
        try:
            response = httpx.get(url, timeout=FETCH_TIMEOUT, follow_redirects=True)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise _invalid(f"could not read {url} of identity provider {self.provider.idp_id}: {exc}") from None
        if not isinstance(document, dict):
            raise _invalid(f"{url} of identity provider {self.provider.idp_id} is not a JSON object")
        return document

    def metadata(self) -> dict:
        """The discovery document (OpenID Connect Discovery 1.0); its ``issuer`` must be
        the configured one (§4.3)."""
        if self._metadata is None:
            p = self.provider
            url = p.discovery_url or p.issuer.rstrip("/") + "/.well-known/openid-configuration"
            document = self._get(url)
            if document.get("issuer") != p.issuer:
                raise _invalid(f"the discovery document of identity provider {p.idp_id} names issuer "
                               f"{document.get('issuer')!r}, not {p.issuer!r}")
            self._metadata = document
        return self._metadata

    def _jwks_uri(self) -> str:
        uri = self.provider.jwks_uri or self.metadata().get("jwks_uri")
        if not isinstance(uri, str) or not uri:
            raise _invalid(f"identity provider {self.provider.idp_id} publishes no jwks_uri")
        return uri

    def _introspection_endpoint(self) -> str:
        p = self.provider
        endpoint = p.introspection_endpoint or (self.metadata().get("introspection_endpoint") if p.client_id else None)
        return endpoint if isinstance(endpoint, str) else ""

    def _signing_key(self, kid: str | None, what: str) -> jwt.PyJWK:
        """The JWKS key ``kid`` names (the only key when the token names none); a key id
        the cached set lacks fetches the set again, at most every
        ``jwks_min_refetch_interval`` seconds."""
        p = self.provider
        with self._lock:
            now = time.monotonic()
            stale = self._keys is None or now - self._fetched_at >= p.jwks_refresh_interval
            missing = self._keys is not None and _find(self._keys, kid) is None
            if stale or (missing and now - self._fetched_at >= p.jwks_min_refetch_interval):
                document = self._get(self._jwks_uri())
                try:
                    self._keys = jwt.PyJWKSet.from_dict(document)
                except jwt.PyJWTError as exc:
                    raise _invalid(f"the JWKS of identity provider {p.idp_id} is unusable: {exc}") from None
                self._fetched_at = now
            assert self._keys is not None
            key = _find(self._keys, kid)
        if key is None:
            raise _invalid(f"it is not signed by a key of identity provider {p.idp_id}"
                           + (f" (unknown key id {kid!r})" if kid else " (no key id)"), what)
        return key

    # -- tokens ----------------------------------------------------------------------------
    def claims(self, token: str) -> dict:
        """The claims of a valid access token; 401 with the reason otherwise."""
        if token.count(".") == 2:
            return self._jwt_claims(token)
        if self._introspection_endpoint():
            return self._introspected_claims(token)
        raise _invalid("not a JWT, and identity provider "
                       f"{self.provider.idp_id} has no introspection endpoint for opaque tokens")

    def id_token_claims(self, token: str, nonce: str) -> dict:
        """The claims of an ID token (OpenID Connect Core §3.1.3.7): its audience is
        ``client_id``, its ``nonce`` the one the authentication request sent."""
        claims = self._jwt_claims(token, audience=self.provider.client_id, what="ID token")
        if not isinstance(claims.get("nonce"), str) or not secrets.compare_digest(claims["nonce"].encode(),
                                                                                  nonce.encode()):
            raise _invalid("its nonce is not the one of the sign-in", "ID token")
        if "azp" in claims and claims["azp"] != self.provider.client_id:
            raise _invalid(f"its authorized party is not {self.provider.client_id!r}", "ID token")
        return claims

    def _jwt_claims(self, token: str, audience: str = "", what: str = "access token") -> dict:
        p = self.provider
        audience = audience or p.audience
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise _invalid(f"malformed JWT ({exc})", what) from None
        alg = header.get("alg")
        if alg not in p.algorithms:
            raise _invalid(f"signature algorithm {alg!r} is not accepted (only {', '.join(p.algorithms)})", what)
        kid = header.get("kid")
        key = self._signing_key(kid if isinstance(kid, str) else None, what)
        if not _fits(key, alg):
            raise _invalid(f"key {key.key_id!r} of identity provider {p.idp_id} is not a signing key for {alg}", what)
        try:
            return jwt.decode(token, key.key, algorithms=[alg], audience=audience, issuer=p.issuer, leeway=p.leeway,
                              options={"require": ["exp", "iss", "aud"]})
        except jwt.ExpiredSignatureError:
            raise _invalid("it has expired", what) from None
        except jwt.ImmatureSignatureError:
            raise _invalid("it is not valid yet (nbf)", what) from None
        except jwt.InvalidAudienceError:
            raise _invalid(f"its audience is not {audience!r}", what) from None
        except jwt.InvalidIssuerError:
            raise _invalid(f"its issuer is not {p.issuer!r}", what) from None
        except jwt.InvalidSignatureError:
            raise _invalid(f"its signature does not verify with the keys of identity provider {p.idp_id}",
                           what) from None
        except jwt.PyJWTError as exc:
            raise _invalid(str(exc), what) from None

    def _introspected_claims(self, token: str) -> dict:
        """RFC 7662: the provider says whether the token is active and whose it is;
        ``iss``, ``aud``, ``exp`` and ``nbf`` are checked when it names them."""
        p = self.provider
        url = self._introspection_endpoint()
        try:
            response = httpx.post(url, data={"token": token, "token_type_hint": "access_token"},
                                  auth=(p.client_id, p.client_secret), timeout=FETCH_TIMEOUT)
            response.raise_for_status()
            claims = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise _invalid(f"the introspection endpoint of identity provider {p.idp_id} failed: {exc}") from None
        if not isinstance(claims, dict) or claims.get("active") is not True:
            raise _invalid("the identity provider says it is not active")
        now = time.time()
        if "iss" in claims and claims["iss"] != p.issuer:
            raise _invalid(f"its issuer is not {p.issuer!r}")
        audiences = claims.get("aud", [])
        if "aud" in claims and p.audience not in (audiences if isinstance(audiences, list) else [audiences]):
            raise _invalid(f"its audience is not {p.audience!r}")
        if isinstance(claims.get("exp"), int | float) and claims["exp"] + p.leeway < now:
            raise _invalid("it has expired")
        if isinstance(claims.get("nbf"), int | float) and claims["nbf"] - p.leeway > now:
            raise _invalid("it is not valid yet (nbf)")
        claims.pop("active")
        claims.setdefault("iss", p.issuer)
        return claims


def _fits(key: jwt.PyJWK, alg: str) -> bool:
    """Whether ``key`` (a JWK) signs with ``alg``: RSA keys for RS*/PS*, elliptic-curve
    and Edwards keys for the algorithm of their curve, never an encryption key."""
    if key.public_key_use not in (None, "sig"):
        return False
    if key.key_type == "RSA":
        return alg[:2] in ("RS", "PS")
    return key.key_type in ("EC", "OKP") and key.algorithm_name == alg


def _find(keys: jwt.PyJWKSet, kid: str | None) -> jwt.PyJWK | None:
    if kid is None:
        return keys.keys[0] if len(keys.keys) == 1 else None
    return next((k for k in keys.keys if k.key_id == kid), None)


def assertion(claims: Mapping[str, Any]) -> dict[str, str]:
    """The claims as ``mod_auth_openidc`` exports them to Keystone: ``OIDC_CLAIM_<name>``
    (the name as the claim's, and upper-cased as pocketstack's proxy headers give it),
    lists ``;``-joined (the separator of Keystone's mapping engine), other values as
    JSON; ``HTTP_OIDC_ISS`` is the issuer, ``REMOTE_USER`` the subject."""
    attributes: dict[str, str] = {}
    for name, value in claims.items():
        if isinstance(value, str):
            text = value
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            text = ";".join(value)
        else:
            text = json.dumps(value, separators=(",", ":"))
        attributes[CLAIM_PREFIX + name] = text
        attributes.setdefault(CLAIM_PREFIX + name.upper().replace("-", "_"), text)
    attributes[ISSUER_ATTRIBUTE] = str(claims.get("iss", ""))
    if isinstance(claims.get("sub"), str):
        attributes["REMOTE_USER"] = claims["sub"]
    return attributes


class OidcFrontEnd:
    """The identity providers whose ``openid`` protocol takes bearer tokens here."""

    def __init__(self, providers: Mapping[str, OidcProvider] | None = None):
        self.verifiers = {idp_id: OidcVerifier(p) for idp_id, p in (providers or {}).items()}

    @classmethod
    def from_file(cls, path: str) -> OidcFrontEnd:
        """The providers of a TOML file, one table per identity provider id (empty path: none)."""
        if not path:
            return cls()
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"setting 'federation_oidc_file': {exc}") from None
        return cls({idp_id: OidcProvider.from_table(idp_id, table) for idp_id, table in data.items()})

    def handles(self, idp_id: str, protocol_id: str) -> bool:
        return protocol_id == PROTOCOL and idp_id in self.verifiers

    def assertion(self, idp_id: str, authorization: str | None) -> dict[str, str]:
        """The attributes of the bearer token in an ``Authorization`` header; 401 for a
        missing or invalid token."""
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise errors.FederatedAuthFailed(
                reason=f"Identity provider {idp_id} signs in with an OpenID Connect access token: "
                       "send it as 'Authorization: Bearer <token>'")
        return assertion(self.verifiers[idp_id].claims(token))
