"""JWS tokens (``token_provider = "jws"``, Keystone's ``[token] provider = jws``).

A token is a JWT in JWS compact serialization (RFC 7515), signed with ES256 (ECDSA
P-256, SHA-256) by the repository's private key; anyone holding a public key of the
repository can check it.  The claims are Keystone's: ``sub``, ``iat``, ``exp``,
``openstack_methods``, ``openstack_audit_ids`` and, when set, ``openstack_project_id``,
``openstack_domain_id``, ``openstack_system``, ``openstack_trust_id``,
``openstack_app_cred_id``, ``openstack_access_token_id`` (OAuth 1.0a) and a federated user's ``openstack_idp_id``,
``openstack_protocol_id`` and ``openstack_group_ids``.  ``iat`` and ``exp`` keep their fractional seconds (RFC 7519
NumericDate allows them): revocation events compare issue times to the microsecond, as
for Fernet tokens.  Validation then re-checks everything against the database exactly as
for Fernet tokens (:mod:`pocketstack.identity.auth`).

The header names the signing key (``kid``, its JWK thumbprint) so validation checks the
one public key that can match; a token without ``kid`` is tried against every public
key, as Keystone does.  Only ``ES256`` is accepted: ``none``, HMAC and every other
algorithm are refused before any key is used.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from pocketstack.common import b64url
from pocketstack.common.lazy import lazy
from pocketstack.identity.keys import JwsKeyRepository
from pocketstack.identity.tokens import (
    SCOPE_DOMAIN,
    SCOPE_PROJECT,
    SCOPE_SYSTEM,
    SCOPE_UNSCOPED,
    TokenError,
    TokenPayload,
)

if TYPE_CHECKING:
    from cryptography import exceptions
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, utils
else:  # imported by the first token signed or checked, not at start
    exceptions = lazy("cryptography.exceptions")
    hashes = lazy("cryptography.hazmat.primitives.hashes")
    ec = lazy("cryptography.hazmat.primitives.asymmetric.ec")
    utils = lazy("cryptography.hazmat.primitives.asymmetric.utils")

ALGORITHM = "ES256"
_COORDINATE = 32  # bytes of r and of s in an ES256 signature (RFC 7518 §3.4)
_SCOPE_CLAIMS = {SCOPE_PROJECT: "openstack_project_id", SCOPE_DOMAIN: "openstack_domain_id",
                 SCOPE_SYSTEM: "openstack_system"}


class JwsError(Exception):
    """Not a JWS this module signed, or its signature does not check out."""


def _json(part: dict) -> str:
    return b64url.encode(json.dumps(part, separators=(",", ":")).encode())


def _unjson(part: str) -> dict:
    try:
        value = json.loads(b64url.decode(part))
    except (ValueError, RecursionError) as exc:
        raise JwsError("malformed part") from exc
    if not isinstance(value, dict):
        raise JwsError("a part is not a JSON object")
    return value


def sign(claims: dict, key: ec.EllipticCurvePrivateKey, kid: str) -> str:
    """``claims`` as an ES256 JWS in compact serialization."""
    signing_input = f"{_json({'alg': ALGORITHM, 'typ': 'JWT', 'kid': kid})}.{_json(claims)}"
    r, s = utils.decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{b64url.encode(r.to_bytes(_COORDINATE, 'big') + s.to_bytes(_COORDINATE, 'big'))}"


def verify(token: str, candidates: Callable[[str | None], Iterable[ec.EllipticCurvePublicKey]]) -> dict:
    """The claims of ``token`` once its signature checks out with one of the public
    keys ``candidates(kid)`` returns for the key id its header names (None if none)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise JwsError("not a JWS in compact serialization")
    header = _unjson(parts[0])
    if header.get("alg") != ALGORITHM:
        raise JwsError(f"algorithm {header.get('alg')!r} is not accepted")
    if "crit" in header:  # RFC 7515 §4.1.11: extensions this code does not understand
        raise JwsError("critical header parameters are not supported")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise JwsError("malformed key id")
    try:
        signature = b64url.decode(parts[2])
    except ValueError as exc:
        raise JwsError("malformed signature") from exc
    if len(signature) != 2 * _COORDINATE:
        raise JwsError("malformed signature")
    der = utils.encode_dss_signature(int.from_bytes(signature[:_COORDINATE], "big"),
                                     int.from_bytes(signature[_COORDINATE:], "big"))
    signing_input = f"{parts[0]}.{parts[1]}".encode()
    for key in candidates(kid):
        try:
            key.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
        except exceptions.InvalidSignature:
            continue
        return _unjson(parts[1])
    raise JwsError("no public key validates the signature")


def _claims(payload: TokenPayload) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "sub": payload.user_id, "iat": payload.issued_at, "exp": payload.expires_at,
        "openstack_methods": payload.methods, "openstack_audit_ids": payload.audit_ids,
    }
    if payload.scope_type in _SCOPE_CLAIMS:
        claims[_SCOPE_CLAIMS[payload.scope_type]] = payload.scope_id
    if payload.trust_id:
        claims["openstack_trust_id"] = payload.trust_id
    if payload.application_credential_id:
        claims["openstack_app_cred_id"] = payload.application_credential_id
    if payload.idp_id:
        claims.update(openstack_idp_id=payload.idp_id, openstack_protocol_id=payload.protocol_id,
                      openstack_group_ids=payload.group_ids)
    if payload.access_token_id:
        claims["openstack_access_token_id"] = payload.access_token_id
    return claims


def _is_time(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _strings(value, *, empty: bool) -> bool:
    return isinstance(value, list) and (empty or bool(value)) and all(isinstance(v, str) for v in value)


def _payload(claims: dict) -> TokenPayload:
    """The payload behind ``claims`` (signed by a key of this cloud, yet checked: a key
    an operator shared may have signed something else)."""
    scopes = [(kind, claims[name]) for kind, name in _SCOPE_CLAIMS.items() if name in claims]
    optional = [claims.get(name) for name in ("openstack_trust_id", "openstack_app_cred_id", "openstack_idp_id",
                                              "openstack_protocol_id", "openstack_access_token_id")]
    groups = claims.get("openstack_group_ids", [])
    if not (isinstance(claims.get("sub"), str) and _is_time(claims.get("iat")) and _is_time(claims.get("exp"))
            and _strings(claims.get("openstack_methods"), empty=False)
            and _strings(claims.get("openstack_audit_ids"), empty=False)
            and len(scopes) <= 1 and all(isinstance(v, str) for _, v in scopes)
            and all(v is None or isinstance(v, str) for v in optional) and _strings(groups, empty=True)):
        raise JwsError("not a token's claims")
    scope_type, scope_id = scopes[0] if scopes else (SCOPE_UNSCOPED, None)
    return TokenPayload(user_id=claims["sub"], methods=claims["openstack_methods"], expires_at=claims["exp"],
                        issued_at=claims["iat"], scope_type=scope_type, scope_id=scope_id,
                        audit_ids=claims["openstack_audit_ids"], trust_id=optional[0],
                        application_credential_id=optional[1], idp_id=optional[2], protocol_id=optional[3],
                        group_ids=groups, access_token_id=optional[4])


class JwsFormatter:
    """The JWS provider: signs with the repository's private key, opens with any of its
    public keys (so a rotation leaves earlier tokens valid until their key is pruned)."""

    def __init__(self, keys: JwsKeyRepository):
        self.keys = keys

    def seal(self, payload: TokenPayload) -> str:
        keys = self.keys.keys()
        if keys.signing_key is None or keys.signing_kid is None:
            raise RuntimeError(f"{self.keys.private_key_path} does not exist: "
                               "create it with `pocketstack token-keys create --provider jws`")
        return sign(_claims(payload), keys.signing_key, keys.signing_kid)

    def open(self, token: str) -> TokenPayload:
        try:
            return _payload(verify(token, self._candidates))
        except JwsError as exc:
            # Keystone's JWS provider: TokenNotFound for anything it cannot verify.
            raise TokenError(f"Could not find token: {token}.") from exc

    def _candidates(self, kid: str | None) -> list[ec.EllipticCurvePublicKey]:
        if kid is None:
            return list(self.keys.keys().public.values())
        key = self.keys.keys().public.get(kid) or self.keys.keys(recheck=True).public.get(kid)
        return [key] if key else []
