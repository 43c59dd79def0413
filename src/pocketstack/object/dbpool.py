"""Open SQLite connections to account and container databases, kept for reuse.

Opening a replica's database costs a file open, the WAL set-up and -- when the last
connection closes -- a checkpoint with an fsync.  A busy container's databases are
touched by every object write, so connections stay open (a bounded number; the least
recently used is closed first) and are lent to one thread at a time.  A connection is
only reused while the file at its path is still the one it opened (same device and
inode, and change time): a database removed with its partition and created again
gets a new connection.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path

# Idle connections kept across all databases: each holds three file descriptors
# (database, WAL, shared memory), so this stays well below a default limit of 1024.
IDLE_LIMIT = 96


def _open(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    # WAL: readers never wait for the writer and a commit is one append.  NORMAL syncs
    # the WAL at checkpoints: a crashed process loses nothing, a power cut at most the
    # last commits of one replica, which the replicator restores from the others.
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def _identity(path: Path) -> tuple[int, int, int] | None:
    """Which file is at ``path`` now: device, inode and change time (a file removed and
    re-created may get the same inode number back, never the same change time)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino, st.st_ctime_ns


class ConnectionPool:
    def __init__(self, limit: int = IDLE_LIMIT):
        self.limit = limit
        self._lock = threading.Lock()
        # (path, identity) -> idle connections, least recently returned first.
        self._idle: OrderedDict[tuple[str, tuple[int, int, int]], list[sqlite3.Connection]] = OrderedDict()
        self._count = 0

    @contextlib.contextmanager
    def connection(self, path: Path) -> Iterator[sqlite3.Connection]:
        """A connection to ``path`` (created if missing) for the ``with`` block's thread."""
        conn = None
        identity = _identity(path)
        if identity is not None:
            with self._lock:
                key = (str(path), identity)
                idle = self._idle.get(key)
                if idle:
                    conn = idle.pop()
                    self._count -= 1
                    if not idle:
                        del self._idle[key]
        if conn is None:
            conn = _open(path)
        try:
            yield conn
        except BaseException:
            conn.close()
            raise
        # Keyed by the file as it is now that this connection is done with it (its own
        # checkpoints change the change time).
        identity = _identity(path)
        if conn.in_transaction or identity is None:
            conn.close()
            return
        self._give(str(path), identity, conn)

    def _give(self, path: str, identity: tuple[int, int, int], conn: sqlite3.Connection) -> None:
        evicted = []
        with self._lock:
            key = (path, identity)
            self._idle.setdefault(key, []).append(conn)
            self._idle.move_to_end(key)
            self._count += 1
            while self._count > self.limit:
                old_key, conns = next(iter(self._idle.items()))
                evicted.append(conns.pop(0))
                self._count -= 1
                if not conns:
                    del self._idle[old_key]
        for old in evicted:
            old.close()

    def close(self) -> None:
        with self._lock:
            conns = [c for idle in self._idle.values() for c in idle]
            self._idle.clear()
            self._count = 0
        for conn in conns:
            conn.close()


POOL = ConnectionPool()
