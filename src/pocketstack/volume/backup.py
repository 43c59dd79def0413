"""The backup engine: volume data ⇄ chunked, compressed, hashed (optionally encrypted) files.

Cinder's backups were slow because one thread read, hashed, compressed and wrote every
byte in turn.  Here a volume is cut into 32 MiB chunks processed in parallel by a thread
pool (zstd and hashlib release the GIL), holes and all-zero chunks are recorded in the
manifest instead of stored, and an incremental backup stores only chunks whose SHA-256
differs from the parent's manifest (unchanged chunks point at the backup that holds
them).  Restore verifies every chunk's hash before writing it.  Chunks live under
``<root>/<backup_id>/`` today; the layout maps one-to-one onto object-store objects.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import zstandard
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

CHUNK_SIZE = 32 * 1024 * 1024
WORKERS = min(8, os.cpu_count() or 2)
ZSTD_LEVEL = 3
NONCE = 12


class BackupCorrupt(Exception):
    """A stored chunk does not match the hash recorded for it."""


@dataclass
class BackupResult:
    object_count: int  # chunks this backup stored itself
    chunk_count: int


def _is_hole(fd: int, start: int, length: int) -> bool:
    """True when ``[start, start+length)`` of a sparse file holds no data (never read)."""
    try:
        return os.lseek(fd, start, os.SEEK_DATA) >= start + length
    except OSError:  # ENXIO: no data after start
        return True


class BackupStore:
    def __init__(self, root: Path, key: bytes | None = None):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.aead = AESGCM(key) if key else None

    def _dir(self, backup_id: str) -> Path:
        return self.root / backup_id

    def _chunk(self, backup_id: str, index: int) -> Path:
        return self._dir(backup_id) / f"chunk-{index:06d}"

    def manifest(self, backup_id: str) -> dict:
        return json.loads((self._dir(backup_id) / "manifest.json").read_text())

    # -- backup ----------------------------------------------------------------------
    def backup(self, source: Path, backup_id: str, parent_id: str | None = None) -> BackupResult:
        size = source.stat().st_size
        count = (size + CHUNK_SIZE - 1) // CHUNK_SIZE
        parent = self.manifest(parent_id)["chunks"] if parent_id else []
        directory = self._dir(backup_id)
        shutil.rmtree(directory, ignore_errors=True)  # a re-run starts clean
        directory.mkdir(parents=True)
        fd = os.open(source, os.O_RDONLY)
        try:
            with ThreadPoolExecutor(WORKERS) as pool:
                chunks = list(pool.map(lambda i: self._save_chunk(fd, i, size, backup_id, parent), range(count)))
        finally:
            os.close(fd)
        manifest = {"size": size, "chunk_size": CHUNK_SIZE, "encrypted": self.aead is not None, "chunks": chunks}
        tmp = directory / "manifest.json.part"
        tmp.write_text(json.dumps(manifest))
        os.replace(tmp, directory / "manifest.json")
        return BackupResult(sum(1 for c in chunks if c.get("stored_in") == backup_id), count)

    def _save_chunk(self, fd: int, index: int, size: int, backup_id: str, parent: list[dict]) -> dict:
        start, length = index * CHUNK_SIZE, min(CHUNK_SIZE, size - index * CHUNK_SIZE)
        if _is_hole(fd, start, length):
            return {"index": index, "zero": True}
        data = os.pread(fd, length, start)
        if not data.strip(b"\0"):
            return {"index": index, "zero": True}
        digest = hashlib.sha256(data).hexdigest()
        if index < len(parent) and parent[index].get("sha256") == digest:
            return {"index": index, "sha256": digest, "stored_in": parent[index]["stored_in"]}
        blob = zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(data)
        if self.aead:
            nonce = os.urandom(NONCE)
            blob = nonce + self.aead.encrypt(nonce, blob, digest.encode())
        self._chunk(backup_id, index).write_bytes(blob)
        return {"index": index, "sha256": digest, "stored_in": backup_id}

    # -- restore ---------------------------------------------------------------------
    def restore(self, backup_id: str, target: Path) -> None:
        """Write the backup's data over ``target`` (zeroed first), verifying every chunk."""
        manifest = self.manifest(backup_id)
        final_size = max(manifest["size"], target.stat().st_size if target.exists() else 0)
        with open(target, "wb") as fh:
            fh.truncate(final_size)
        fd = os.open(target, os.O_WRONLY)
        try:
            with ThreadPoolExecutor(WORKERS) as pool:
                list(pool.map(lambda c: self._restore_chunk(fd, c, manifest["chunk_size"]), manifest["chunks"]))
            os.fsync(fd)
        finally:
            os.close(fd)

    def _restore_chunk(self, fd: int, chunk: dict, chunk_size: int) -> None:
        if chunk.get("zero"):
            return
        blob = self._chunk(chunk["stored_in"], chunk["index"]).read_bytes()
        if self.aead:
            try:
                blob = self.aead.decrypt(blob[:NONCE], blob[NONCE:], chunk["sha256"].encode())
            except Exception as error:  # noqa: BLE001 - InvalidTag: tampered or wrong key
                raise BackupCorrupt(f"chunk {chunk['index']} failed authentication") from error
        data = zstandard.ZstdDecompressor().decompress(blob)
        if hashlib.sha256(data).hexdigest() != chunk["sha256"]:
            raise BackupCorrupt(f"chunk {chunk['index']} of backup {chunk['stored_in']} is corrupt")
        os.pwrite(fd, data, chunk["index"] * chunk_size)

    def delete(self, backup_id: str) -> None:
        shutil.rmtree(self._dir(backup_id), ignore_errors=True)
