"""JWS tokens: ES256 signing and checking, Keystone's claims, and the key repository's
rotation (the API side is in tests/functional/test_identity_jws_tokens.py)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa, utils

from pocketstack.common import b64url
from pocketstack.identity.jws import JwsFormatter
from pocketstack.identity.keys import JwsKeyRepository, KeyRepository, key_id
from pocketstack.identity.tokens import (
    SCOPE_DOMAIN,
    SCOPE_PROJECT,
    SCOPE_SYSTEM,
    TokenError,
    TokenFormatter,
    TokenPayload,
)

USER = "5f2b9d1c0a4e4f7e8d6c5b4a39281706"


def part(value: dict) -> str:
    return b64url.encode(json.dumps(value).encode())


def es256(signing_input: str, key: ec.EllipticCurvePrivateKey) -> str:
    r, s = utils.decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return b64url.encode(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def forge(header: dict, claims: dict, key: ec.EllipticCurvePrivateKey) -> str:
    """A JWS with any header, validly signed by ``key``."""
    signing_input = f"{part(header)}.{part(claims)}"
    return f"{signing_input}.{es256(signing_input, key)}"


def decode(token: str) -> tuple[dict, dict]:
    header, claims, _ = token.split(".")
    return json.loads(b64url.decode(header)), json.loads(b64url.decode(claims))


@pytest.fixture
def repo(tmp_path) -> JwsKeyRepository:
    keys = JwsKeyRepository(tmp_path / "jws-keys", max_active_keys=3)
    keys.ensure()
    return keys


def payload(**fields) -> TokenPayload:
    return TokenPayload(user_id=USER, methods=["password"], expires_at=time.time() + 3600, **fields)


def signing_key(repo: JwsKeyRepository) -> ec.EllipticCurvePrivateKey:
    key = repo.keys().signing_key
    assert key is not None
    return key


@pytest.mark.parametrize("fields", [
    {},
    {"scope_type": SCOPE_PROJECT, "scope_id": "a" * 32},
    {"scope_type": SCOPE_DOMAIN, "scope_id": "default"},
    {"scope_type": SCOPE_SYSTEM, "scope_id": "all"},
    {"scope_type": SCOPE_PROJECT, "scope_id": "p1", "trust_id": "t1"},
    {"scope_type": SCOPE_PROJECT, "scope_id": "p1", "application_credential_id": "c1"},
    {"idp_id": "acme", "protocol_id": "saml2", "group_ids": ["a" * 32, "g2"]},
], ids=["unscoped", "project", "domain", "system", "trust", "app-cred", "federated"])
def test_sealed_payload_opens_unchanged(repo, fields):
    formatter = JwsFormatter(repo)
    original = payload(audit_ids=["aud-1", "aud-0"], **fields)
    token = formatter.seal(original)
    assert formatter.open(token) == original  # iat/exp to the microsecond: revocation compares them


def test_header_and_claims_are_keystones(repo):
    token = JwsFormatter(repo).seal(payload(scope_type=SCOPE_PROJECT, scope_id="p1", trust_id="t1"))
    header, claims = decode(token)
    assert header == {"alg": "ES256", "typ": "JWT", "kid": key_id(signing_key(repo).public_key())}
    assert set(claims) == {"sub", "iat", "exp", "openstack_methods", "openstack_audit_ids",
                           "openstack_project_id", "openstack_trust_id"}
    assert claims["sub"] == USER and claims["openstack_project_id"] == "p1"
    _, system = decode(JwsFormatter(repo).seal(payload(scope_type=SCOPE_SYSTEM, scope_id="all")))
    assert system["openstack_system"] == "all" and "openstack_project_id" not in system


def test_signature_is_checked(repo, tmp_path):
    formatter = JwsFormatter(repo)
    token = formatter.seal(payload())
    header, claims, signature = token.split(".")
    forged = json.loads(b64url.decode(claims)) | {"sub": "someone-else"}
    other = JwsKeyRepository(tmp_path / "elsewhere")
    other.ensure()
    refused = {
        "tampered payload": f"{header}.{part(forged)}.{signature}",
        "tampered signature": f"{header}.{claims}.{signature[:-2]}{'AA' if not signature.endswith('AA') else 'BA'}",
        "short signature": f"{header}.{claims}.{signature[:-4]}",
        "wrong key": JwsFormatter(other).seal(payload()),
        "unknown kid": forge({"alg": "ES256", "kid": "nobody"}, json.loads(b64url.decode(claims)),
                             signing_key(repo)),
        "padded": token + "=",
        "two parts": f"{header}.{claims}",
        "fernet token": TokenFormatter(_fernet_keys(tmp_path)).seal(payload()),
        "not ascii": token[:-1] + "é",
        "not json": f"{b64url.encode(b'{')}.{claims}.{signature}",
    }
    for name, bad in refused.items():
        try:
            formatter.open(bad)
        except TokenError as error:
            assert str(error) == f"Could not find token: {bad}.", name
        else:
            pytest.fail(f"{name} was accepted")


def _fernet_keys(tmp_path) -> KeyRepository:
    keys = KeyRepository(tmp_path / "fernet-keys")
    keys.ensure()
    return keys


def test_only_es256_is_accepted(repo):
    """``alg: none``, HMAC keyed with the public key (the classic confusion) and other
    algorithms are refused before any key is used, as are critical extensions."""
    claims = decode(JwsFormatter(repo).seal(payload()))[1]
    public_pem = repo.public_dir.joinpath("1.pem").read_bytes()
    none = f"{part({'alg': 'none'})}.{part(claims)}."
    hs_input = f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}"
    hs256 = f"{hs_input}.{b64url.encode(hmac.new(public_pem, hs_input.encode(), hashlib.sha256).digest())}"
    key = signing_key(repo)
    for bad in (none, hs256, forge({"alg": "ES384"}, claims, key), forge({"alg": "es256"}, claims, key),
                forge({"alg": "ES256", "crit": ["exp"], "exp": 1}, claims, key),
                forge({"alg": "ES256", "kid": 7}, claims, key)):
        with pytest.raises(TokenError):
            JwsFormatter(repo).open(bad)
    # The same claims signed properly, without a kid: every public key is tried (Keystone's way).
    assert JwsFormatter(repo).open(forge({"alg": "ES256"}, claims, key)).user_id == USER


@pytest.mark.parametrize("claims", [
    {"iat": 1, "exp": 2, "openstack_methods": ["password"], "openstack_audit_ids": ["a"]},
    {"sub": USER, "iat": "1", "exp": 2, "openstack_methods": ["password"], "openstack_audit_ids": ["a"]},
    {"sub": USER, "iat": 1, "exp": True, "openstack_methods": ["password"], "openstack_audit_ids": ["a"]},
    {"sub": USER, "iat": 1, "exp": 2, "openstack_methods": [], "openstack_audit_ids": ["a"]},
    {"sub": USER, "iat": 1, "exp": 2, "openstack_methods": ["password"], "openstack_audit_ids": "a"},
    {"sub": USER, "iat": 1, "exp": 2, "openstack_methods": ["password"], "openstack_audit_ids": ["a"],
     "openstack_project_id": "p", "openstack_domain_id": "d"},
    {"sub": USER, "iat": 1, "exp": 2, "openstack_methods": ["password"], "openstack_audit_ids": ["a"],
     "openstack_trust_id": 5},
], ids=["no-sub", "iat-string", "exp-bool", "no-methods", "audit-string", "two-scopes", "trust-int"])
def test_signed_claims_of_the_wrong_shape_are_refused(repo, claims):
    with pytest.raises(TokenError):
        JwsFormatter(repo).open(forge({"alg": "ES256"}, claims, signing_key(repo)))


def test_rotation_keeps_old_tokens_until_their_public_key_is_pruned(repo):
    formatter = JwsFormatter(repo)
    first = formatter.seal(payload())
    repo.rotate()
    second = formatter.seal(payload())
    assert decode(first)[0]["kid"] != decode(second)[0]["kid"]
    assert formatter.open(first).user_id == formatter.open(second).user_id == USER
    repo.rotate()  # three public keys now: max_active_keys
    assert formatter.open(first)
    repo.rotate()  # the first key pair's public key goes
    assert sorted(p.name for p in repo.public_dir.iterdir()) == ["2.pem", "3.pem", "4.pem"]
    with pytest.raises(TokenError):
        formatter.open(first)
    assert formatter.open(second)


def test_another_process_sees_a_rotation_at_once(repo):
    """Two repositories on one directory stand for two API processes: a token signed
    with a key the other has not loaded yet makes it re-read the directory at once
    instead of refusing the token until its once-a-second check."""
    reader = JwsFormatter(JwsKeyRepository(repo.path))
    assert reader.open(JwsFormatter(repo).seal(payload()))
    repo.rotate()
    assert reader.open(JwsFormatter(repo).seal(payload())).user_id == USER
    # An operator removing a public key (say a compromised one) takes effect within a second.
    token = JwsFormatter(repo).seal(payload())
    (repo.public_dir / "2.pem").unlink()
    reader.keys._checked_at = 0  # what a second's wait does
    with pytest.raises(TokenError):
        reader.open(token)


def test_public_keys_of_any_name_validate_and_unusable_files_are_skipped(repo, caplog):
    """Keystone's layout: every file in the public directory is a candidate key (an
    operator copies other servers' keys there under any name)."""
    other = JwsKeyRepository(repo.path.parent / "other-server")
    other.ensure()
    token = JwsFormatter(other).seal(payload())
    with pytest.raises(TokenError):
        JwsFormatter(repo).open(token)
    (repo.public_dir / "other-server.pem").write_bytes((other.public_dir / "1.pem").read_bytes())
    (repo.public_dir / "notes.txt").write_text("not a key")
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    (repo.public_dir / "rsa.pem").write_bytes(rsa_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    assert JwsFormatter(repo).open(token).user_id == USER
    assert "notes.txt is not a PEM public key" in caplog.text and "rsa.pem is not a P-256" in caplog.text
    # Rotation prunes only the keys it numbered itself.
    for _ in range(3):
        repo.rotate()
    assert (repo.public_dir / "other-server.pem").exists() and not (repo.public_dir / "1.pem").exists()


def test_files_and_modes(repo):
    assert repo.private_key_path.stat().st_mode & 0o777 == 0o600
    assert repo.private_dir.stat().st_mode & 0o777 == 0o700
    private = serialization.load_pem_private_key(repo.private_key_path.read_bytes(), password=None)
    public = serialization.load_pem_public_key((repo.public_dir / "1.pem").read_bytes())
    assert isinstance(private, ec.EllipticCurvePrivateKey) and private.curve.name == "secp256r1"
    assert key_id(private.public_key()) == key_id(public)  # type: ignore[arg-type]
    repo.ensure()  # idempotent: the key pair stays
    assert sorted(p.name for p in repo.public_dir.iterdir()) == ["1.pem"]


def test_key_id_is_the_rfc7638_thumbprint():
    """RFC 7638 §3.1's example is RSA; this checks the EC members and their order."""
    key = ec.derive_private_key(1, ec.SECP256R1()).public_key()  # the curve's generator point
    x = b64url.encode(key.public_numbers().x.to_bytes(32, "big"))
    y = b64url.encode(key.public_numbers().y.to_bytes(32, "big"))
    expected = hashlib.sha256(json.dumps({"crv": "P-256", "kty": "EC", "x": x, "y": y},
                                         separators=(",", ":"), sort_keys=True).encode()).digest()
    assert key_id(key) == b64url.encode(expected)
