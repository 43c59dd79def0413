"""Key pairs: per user, imported or generated, counted against the ``key_pairs`` quota."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from pocketstack.common.db import Database
from pocketstack.common.db.cas import changed_rows, run_in_transaction
from pocketstack.compute import errors
from pocketstack.compute.models import KeyPair
from pocketstack.compute.quotas import Quotas, user_scope

_NAME = re.compile(r"^[a-zA-Z0-9 _.@-]{1,255}$")


def fingerprint(public_key: str, key_type: str) -> str:
    """Nova's fingerprints: MD5 of the SSH key blob, or SHA-1 of an x509 certificate."""
    # cryptography (its x509 part alone a few hundredths of a second) is loaded by the
    # first key pair, not by every start of the compute service.
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization

    if key_type == "x509":
        try:
            cert = x509.load_pem_x509_certificate(public_key.encode())
        except ValueError:
            raise errors.InvalidKeypair(reason="failed to generate fingerprint") from None
        return ":".join(f"{b:02x}" for b in cert.fingerprint(hashes.SHA1()))
    try:
        serialization.load_ssh_public_key(public_key.strip().encode())
        blob = base64.b64decode(public_key.split()[1])
    except (ValueError, IndexError, TypeError, UnsupportedAlgorithm):
        raise errors.InvalidKeypair(reason="failed to generate fingerprint") from None
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def generate() -> tuple[str, str]:
    """A new ed25519 key: (private key in OpenSSH PEM, public key line)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                           serialization.PublicFormat.OpenSSH).decode()
    return private, public + " Generated-by-Nova"


def generate_x509(user_id: str, project_id: str | None) -> tuple[str, str]:
    """A new RSA key and a self-signed certificate for it, valid ten years, with Nova's
    subject (its project part empty for a token scoped to no project): (private key in
    PEM, certificate in PEM)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.timezone.utc)
    subject = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "California"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "OpenStack"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "NovaDev"),
        x509.NameAttribute(NameOID.COMMON_NAME, f"{(project_id or '')[:16]}-{user_id[:16]}-{now:%Y-%m-%dT%H:%M:%S}")])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=3650)).sign(key, hashes.SHA256()))
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    return private, cert.public_bytes(serialization.Encoding.PEM).decode()


class KeyPairs:
    def __init__(self, db: Database, quotas: Quotas):
        self.db = db
        self.quotas = quotas

    def create(self, user_id: str, project_id: str | None, name: str, public_key: str | None,
               key_type: str = "ssh") -> tuple[KeyPair, str | None]:
        """Import ``public_key`` or generate one; returns the key pair and the private key
        (only when generated)."""
        if not _NAME.match(name) or not name.strip():
            raise errors.InvalidKeypair(reason="Keypair name contains unsafe characters")
        private = None
        if public_key is None:
            private, public_key = generate_x509(user_id, project_id) if key_type == "x509" else generate()
        fp = fingerprint(public_key, key_type)
        scope = user_scope(user_id)
        self.quotas.ensure_rows(scope, ["key_pairs"])
        limits = self.quotas.limits(project_id)
        keypair = KeyPair(user_id=user_id, name=name, type=key_type, public_key=public_key, fingerprint=fp)
        def store(s: Session) -> None:
            self.quotas.reserve(s, scope, {"key_pairs": 1}, limits)
            s.add(keypair)
            s.flush()
        try:
            run_in_transaction(self.db, store)  # the usage row is contended: re-run whole on conflict
        except sa_exc.IntegrityError:
            raise errors.KeyPairExists(name=name) from None
        return keypair, private

    def get(self, user_id: str, name: str) -> KeyPair:
        with self.db.session(readonly=True) as s:
            keypair = s.scalar(sa.select(KeyPair).where(KeyPair.user_id == user_id, KeyPair.name == name))
        if keypair is None:
            raise errors.KeypairNotFound(name=name, user_id=user_id)
        return keypair

    def list(self, user_id: str, limit: int | None = None, marker: str | None = None) -> list[KeyPair]:
        stmt = sa.select(KeyPair).where(KeyPair.user_id == user_id).order_by(KeyPair.name)
        if marker is not None:
            stmt = stmt.where(KeyPair.name > marker)
        if limit is not None:
            stmt = stmt.limit(limit)
        with self.db.session(readonly=True) as s:
            return list(s.scalars(stmt))

    def delete(self, user_id: str, name: str) -> None:
        with self.db.session() as s:
            if changed_rows(s, sa.delete(KeyPair).where(KeyPair.user_id == user_id, KeyPair.name == name)) != 1:
                raise errors.KeypairNotFound(name=name, user_id=user_id)
            self.quotas.release(s, user_scope(user_id), {"key_pairs": 1})
