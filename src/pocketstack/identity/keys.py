"""Token key repositories.

Fernet (:class:`KeyRepository`): ``0`` is the staged key, the highest number the
primary.  Rotation follows Keystone's scheme so that several API processes sharing the
directory never reject each other's tokens: the staged key (already known to every
reader) becomes primary, a new staged key is written, and the oldest secondary keys
beyond ``max_active_keys`` are removed.  Readers reload the directory when it changes.

JWS (:class:`JwsKeyRepository`): Keystone's layout of ES256 key pairs, one private key
``private/private.pem`` that signs and any number of public keys in ``public/`` that
validate.  Rotation writes the new public key before the private key that uses it, so a
reader that sees the new private key sees its public key too, and older public keys
keep validating the tokens they signed until rotation prunes them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pocketstack.common import b64url
from pocketstack.common.lazy import lazy

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
else:  # imported by the first JWS key pair read or written, not at start
    serialization = lazy("cryptography.hazmat.primitives.serialization")
    ec = lazy("cryptography.hazmat.primitives.asymmetric.ec")

LOG = logging.getLogger(__name__)


def _write_file(path: Path, data: bytes, mode: int) -> None:
    """Write ``path`` atomically: readers see the old content or all of the new."""
    tmp = path.parent / f".{path.name}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class KeyRepository:
    def __init__(self, path: Path, max_active_keys: int = 3):
        if max_active_keys < 2:
            raise ValueError("max_active_keys must be at least 2 (staged and primary)")
        self.path = Path(path)
        self.max_active_keys = max_active_keys
        self._lock = threading.Lock()
        self._loaded_mtime: float | None = None
        self._checked_at = 0.0
        self._fernet: MultiFernet | None = None

    def _key_files(self) -> dict[int, Path]:
        return {int(p.name): p for p in self.path.iterdir() if p.name.isdigit()}

    def _write_key(self, index: int) -> None:
        _write_file(self.path / str(index), base64.urlsafe_b64encode(os.urandom(32)), 0o600)  # Fernet.generate_key()

    def ensure(self) -> None:
        """Create the repository with a staged and a primary key if it is empty."""
        self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
        keys = self._key_files()
        if 0 not in keys:
            self._write_key(0)
        if len(self._key_files()) < 2:
            self.rotate()

    def rotate(self) -> int:
        """Promote the staged key; returns the new primary's index."""
        keys = self._key_files()
        new_primary = max(keys) + 1
        os.replace(keys[0], self.path / str(new_primary))
        self._write_key(0)
        secondaries = sorted(i for i in self._key_files() if i not in (0, new_primary))
        excess = len(secondaries) + 2 - self.max_active_keys
        for index in secondaries[:max(excess, 0)]:
            (self.path / str(index)).unlink()
        self._loaded_mtime = None
        return new_primary

    def fernet(self) -> MultiFernet:
        """Primary first (used to encrypt), then the others (accepted for decryption).

        The directory is re-read when its mtime changes, checked at most once a second.
        """
        now = time.monotonic()
        if self._fernet is not None and now - self._checked_at < 1.0:
            return self._fernet
        with self._lock:
            self._checked_at = now
            mtime = self.path.stat().st_mtime
            if self._fernet is None or mtime != self._loaded_mtime:
                from cryptography.fernet import Fernet, MultiFernet  # on first use, not at start

                keys = self._key_files()
                order = sorted(keys, reverse=True)
                order.remove(0)
                order.append(0)
                self._fernet = MultiFernet([Fernet(keys[i].read_bytes().strip()) for i in order])
                self._loaded_mtime = mtime
            return self._fernet

    def seal(self, purpose: str, data: dict) -> str:
        """``data`` encrypted and authenticated for a client to carry back (a cookie),
        marked with what it is for so that one sealed thing never passes for another."""
        return self.fernet().encrypt(json.dumps({"purpose": purpose, "data": data}).encode()).decode()

    def unseal(self, purpose: str, sealed: str, ttl: int) -> dict | None:
        """What :meth:`seal` sealed for ``purpose`` at most ``ttl`` seconds ago; None for
        anything else (expired, tampered, another purpose's, not sealed at all)."""
        from cryptography.fernet import InvalidToken

        try:
            message = json.loads(self.fernet().decrypt(sealed.encode(), ttl=ttl))
        except (InvalidToken, ValueError, TypeError, UnicodeError):
            return None
        if not isinstance(message, dict) or message.get("purpose") != purpose or not isinstance(message.get("data"),
                                                                                                   dict):
            return None
        return message["data"]

    def primary_hash(self) -> str:
        """A digest naming the primary key (what encrypts now), stored beside what it
        encrypted so a rotation can tell which data still uses an older key."""
        keys = self._key_files()
        return hashlib.sha256(keys[max(keys)].read_bytes().strip()).hexdigest()


def key_id(key: ec.EllipticCurvePublicKey) -> str:
    """The key's RFC 7638 JWK thumbprint: what a token's ``kid`` header names it by,
    whatever its file is called."""
    numbers = key.public_numbers()
    x, y = (b64url.encode(n.to_bytes(32, "big")) for n in (numbers.x, numbers.y))
    jwk = f'{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}'  # RFC 7638: these members, sorted, no spaces
    return b64url.encode(hashlib.sha256(jwk.encode()).digest())


@dataclass(frozen=True)
class JwsKeys:
    """One reading of a :class:`JwsKeyRepository`."""

    signing_key: ec.EllipticCurvePrivateKey | None
    signing_kid: str | None
    public: dict[str, ec.EllipticCurvePublicKey]  # by key id


class JwsKeyRepository:
    """``private/private.pem`` signs (Keystone's name); every file in ``public/`` is a
    public key that validates.  Rotation numbers the public keys it writes (``<n>.pem``)
    and prunes only those."""

    PRIVATE = "private.pem"

    def __init__(self, path: Path, max_active_keys: int = 3):
        if max_active_keys < 2:
            raise ValueError("max_active_keys must be at least 2 (the signing key and the one before)")
        self.path = Path(path)
        self.private_dir = self.path / "private"
        self.public_dir = self.path / "public"
        self.max_active_keys = max_active_keys
        self._lock = threading.Lock()
        self._loaded_mtimes: tuple[int, int] | None = None
        self._checked_at = 0.0
        self._keys: JwsKeys | None = None

    @property
    def private_key_path(self) -> Path:
        return self.private_dir / self.PRIVATE

    def _numbered(self) -> dict[int, Path]:
        """The public keys :meth:`rotate` wrote (``<n>.pem``); others are the operator's."""
        return {int(p.stem): p for p in self.public_dir.glob("*.pem") if p.stem.isdigit()}

    def ensure(self) -> None:
        """Create the repository with its first key pair if it has no private key."""
        if not self.private_key_path.exists():
            self.rotate()

    def rotate(self) -> str:
        """A new ES256 key pair signs from now on; returns its key id.  The oldest
        numbered public keys beyond ``max_active_keys`` are removed: tokens they signed
        are refused from then on (404 on validation, 401 elsewhere)."""
        self.private_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.public_dir.mkdir(parents=True, exist_ok=True, mode=0o755)
        private = ec.generate_private_key(ec.SECP256R1())
        public = private.public_key()
        numbered = self._numbered()
        _write_file(self.public_dir / f"{max(numbered, default=0) + 1}.pem", public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo), 0o644)
        _write_file(self.private_key_path, private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()), 0o600)
        for index in sorted(numbered)[:max(len(numbered) + 1 - self.max_active_keys, 0)]:
            numbered[index].unlink()
        self._checked_at = 0.0
        return key_id(public)

    def keys(self, *, recheck: bool = False) -> JwsKeys:
        """The keys as of the directories' last change, checked at most once a second
        (``recheck``: now, as for a token naming a key not seen yet)."""
        now = time.monotonic()
        if self._keys is not None and not recheck and now - self._checked_at < 1.0:
            return self._keys
        with self._lock:
            self._checked_at = now
            mtimes = (self.private_dir.stat().st_mtime_ns, self.public_dir.stat().st_mtime_ns)
            if self._keys is None or mtimes != self._loaded_mtimes:
                self._keys = self._read()
                self._loaded_mtimes = mtimes
            return self._keys

    def _read(self) -> JwsKeys:
        public: dict[str, ec.EllipticCurvePublicKey] = {}
        for path in sorted(self.public_dir.iterdir()):
            if path.name.startswith(".") or not path.is_file():
                continue
            try:
                key = serialization.load_pem_public_key(path.read_bytes())
            except FileNotFoundError:  # pruned by a rotation in another process just now
                continue
            except ValueError:
                LOG.warning("%s is not a PEM public key: ignored", path)
                continue
            if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
                LOG.warning("%s is not a P-256 (ES256) public key: ignored", path)
                continue
            public[key_id(key)] = key
        signing_key = None
        if self.private_key_path.exists():
            loaded = serialization.load_pem_private_key(self.private_key_path.read_bytes(), password=None)
            if not isinstance(loaded, ec.EllipticCurvePrivateKey) or loaded.curve.name != "secp256r1":
                raise ValueError(f"{self.private_key_path} is not a P-256 (ES256) private key")
            signing_key = loaded
        kid = key_id(signing_key.public_key()) if signing_key else None
        return JwsKeys(signing_key, kid, public)


TOKEN_KEY_DIRECTORIES = {"fernet": "fernet-keys", "jws": "jws-keys"}  # in the data directory


def token_key_repository(provider: str, data_dir: Path, max_active_keys: int) -> KeyRepository | JwsKeyRepository:
    """The key repository of token provider ``provider`` (the ``token_provider`` setting)."""
    if provider not in TOKEN_KEY_DIRECTORIES:
        raise ValueError(f"setting 'token_provider': {provider!r} is not one of {', '.join(TOKEN_KEY_DIRECTORIES)}")
    kind = JwsKeyRepository if provider == "jws" else KeyRepository
    return kind(data_dir / TOKEN_KEY_DIRECTORIES[provider], max_active_keys)
