"""The backup engine on real files: full and incremental backups, sparse and zero chunks,
encryption, and corruption detection on restore."""

from __future__ import annotations

import os

import pytest
import zstandard

from pocketstack.volume import backup as engine
from pocketstack.volume.backup import BackupCorrupt, BackupStore
from pocketstack.volume.backup_stores import BackupRef, ChunkMissing, DirectoryChunks

FULL, INCR, B = BackupRef("full"), BackupRef("incr"), BackupRef("b")


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setattr(engine, "CHUNK_SIZE", 64 * 1024)


def volume(tmp_path, size=1024 * 1024):
    path = tmp_path / "vol"
    with open(path, "wb") as fh:
        fh.truncate(size)
        fh.seek(100_000)
        fh.write(os.urandom(150_000))
    return path


@pytest.mark.parametrize("key", [None, os.urandom(32)], ids=["plain", "aes-gcm"])
def test_full_then_incremental_round_trip(tmp_path, key):
    store = BackupStore(DirectoryChunks(tmp_path / "backups"), key)
    source = volume(tmp_path)
    full = store.backup(source, FULL)
    assert full.chunk_count == 16 and full.object_count == 3  # chunks 1..3 hold data, the rest are zero
    with open(source, "r+b") as fh:
        fh.seek(700_000)
        fh.write(b"changed")
    incremental = store.backup(source, INCR, FULL)
    assert incremental.object_count == 1
    target = tmp_path / "restored"
    store.restore(INCR, target)
    assert target.read_bytes() == source.read_bytes()
    store.restore(FULL, target)
    assert target.read_bytes()[700_000:700_007] == b"\0" * 7


def test_restore_detects_corruption(tmp_path):
    store = BackupStore(DirectoryChunks(tmp_path / "backups"))
    source = volume(tmp_path)
    store.backup(source, B)
    chunk = next((tmp_path / "backups" / "b").glob("chunk-*"))
    chunk.write_bytes(zstandard.ZstdCompressor().compress(os.urandom(64 * 1024)))
    with pytest.raises(BackupCorrupt):
        store.restore(B, tmp_path / "restored")


def test_wrong_key_is_refused(tmp_path):
    source = volume(tmp_path)
    BackupStore(DirectoryChunks(tmp_path / "backups"), os.urandom(32)).backup(source, B)
    with pytest.raises(BackupCorrupt):
        BackupStore(DirectoryChunks(tmp_path / "backups"), os.urandom(32)).restore(B, tmp_path / "restored")


def test_missing_chunk_and_delete(tmp_path):
    store = BackupStore(DirectoryChunks(tmp_path / "backups"))
    store.backup(volume(tmp_path), B)
    next((tmp_path / "backups" / "b").glob("chunk-*")).unlink()
    with pytest.raises(ChunkMissing):
        store.restore(B, tmp_path / "restored")
    store.delete(B)
    assert not (tmp_path / "backups" / "b").exists()
