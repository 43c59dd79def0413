"""The Fernet key repository: ``0`` is the staged key, the highest number the primary.

Rotation follows Keystone's scheme so that several API processes sharing the directory
never reject each other's tokens: the staged key (already known to every reader)
becomes primary, a new staged key is written, and the oldest secondary keys beyond
``max_active_keys`` are removed.  Readers reload the directory when it changes.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet


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
        tmp = self.path / f".{index}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(base64.urlsafe_b64encode(os.urandom(32)))  # Fernet.generate_key()
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path / str(index))

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

    def primary_hash(self) -> str:
        """A digest naming the primary key (what encrypts now), stored beside what it
        encrypted so a rotation can tell which data still uses an older key."""
        keys = self._key_files()
        return hashlib.sha256(keys[max(keys)].read_bytes().strip()).hexdigest()
