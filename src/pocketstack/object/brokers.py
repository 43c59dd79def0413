"""Account and container databases: one small SQLite file per replica, as in Swift.

A container replica's database lists its objects (name, timestamp, size, type, etag,
and deleted rows kept as tombstones so replicas can be merged, until the replicators
reclaim them after the reclaim age) and keeps the object count and bytes used; an
account replica's database lists its containers with their counts.  Every change
runs in ``BEGIN IMMEDIATE`` -- SQLite's single-writer lock on that one file -- and
compares timestamps so that the newest update wins whatever order updates arrive in;
the counters are adjusted in the same transaction, so concurrent object writes never
lose a count.

Connections are reused (``dbpool``).  Object rows and account reports that arrive
together for one database are applied in one transaction (``batching``): sixteen
concurrent writes to a container cost one ``BEGIN IMMEDIATE``/``COMMIT`` instead of
sixteen turns on its lock, and each caller still returns only once its own change is
committed, so a listing read after a write always shows it.

All methods block; callers run them in threads.
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import json
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

from pocketstack.object.batching import Batcher
from pocketstack.object.dbpool import POOL

# A name sorts below this whatever it starts with (for prefix upper bounds).
_MAX_CHAR = chr(0x10FFFF)


class Broker:
    """What account and container databases share: file, metadata, listing."""

    table = ""
    schema = ""
    # The column holding the time a deleted row of ``table`` was deleted.
    deleted_at = ""

    def __init__(self, path: Path):
        self.path = path

    @property
    def exists(self) -> bool:
        return self.path.exists()

    @contextlib.contextmanager
    def _connect(self, write: bool = False):
        with POOL.connection(self.path) as conn:
            if not write:
                yield conn
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def initialize(self, put_timestamp: str, **names: str) -> None:
        """Create the database if missing and record ``put_timestamp`` (re-create after delete)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect(write=True) as conn:
            for statement in self.schema.split(";"):
                if statement.strip():
                    conn.execute(statement)
            if conn.execute("SELECT count(*) FROM info").fetchone()[0] == 0:
                conn.execute("INSERT INTO info (name, created_at, put_timestamp, delete_timestamp, metadata) "
                             "VALUES (?, ?, ?, '0', '{}')", (json.dumps(names), put_timestamp, put_timestamp))
            else:
                conn.execute("UPDATE info SET put_timestamp = max(put_timestamp, ?)", (put_timestamp,))
                conn.execute("UPDATE info SET created_at = ? WHERE delete_timestamp > created_at",
                             (put_timestamp,))

    def info(self) -> dict | None:
        """The database's row of totals and metadata; ``None`` if it does not exist."""
        if not self.exists:
            return None
        with self._connect() as conn:
            try:
                row = conn.execute("SELECT * FROM info").fetchone()
            except sqlite3.OperationalError as error:
                if "no such table" not in str(error):
                    raise
                return None  # just created by a writer that has not committed its schema yet
        if row is None:
            return None
        info = dict(row)
        info["metadata"] = json.loads(info["metadata"])
        info["deleted"] = info["delete_timestamp"] > info["put_timestamp"]
        return info

    def update_metadata(self, updates: dict[str, str], timestamp: str) -> None:
        """Newest value per key wins; an empty value deletes (kept as a tombstone)."""
        with self._connect(write=True) as conn:
            current = json.loads(conn.execute("SELECT metadata FROM info").fetchone()[0])
            for key, value in updates.items():
                if key not in current or current[key][1] < timestamp:
                    current[key] = [value, timestamp]
            conn.execute("UPDATE info SET metadata = ?", (json.dumps(current),))

    def mark_deleted(self, timestamp: str) -> None:
        with self._connect(write=True) as conn:
            conn.execute("UPDATE info SET delete_timestamp = max(delete_timestamp, ?)", (timestamp,))

    def list(self, *, limit: int, marker: str = "", end_marker: str = "", prefix: str = "",
             delimiter: str = "", reverse: bool = False) -> list[dict]:
        """Swift's listing walk: rows and ``{"subdir": ...}`` entries, at most ``limit``."""
        results: list[dict] = []
        if not self.exists:
            return results
        with self._connect() as conn:
            while len(results) < limit:
                rows = self._page(conn, limit - len(results), marker, end_marker, prefix, reverse)
                if not rows:
                    break
                for row in rows:
                    name = row["name"]
                    marker = name
                    cut = name.find(delimiter, len(prefix)) if delimiter else -1
                    if cut < 0:
                        results.append(dict(row))
                        continue
                    subdir = name[:cut + len(delimiter)]
                    if not results or results[-1].get("subdir") != subdir:
                        results.append({"subdir": subdir})
                    # Skip everything below the pseudo-folder with one new query.
                    marker = subdir if reverse else subdir[:-1] + chr(ord(subdir[-1]) + 1)
                    break
        return results

    def _page(self, conn, count, marker, end_marker, prefix, reverse):
        clauses, params = ["deleted = 0"], []
        lower, upper = (end_marker, marker) if reverse else (marker, end_marker)
        if lower:
            clauses.append("name > ?")
            params.append(lower)
        if upper:
            clauses.append("name < ?")
            params.append(upper)
        if prefix:
            clauses += ["name >= ?", "name < ?"]
            params += [prefix, prefix + _MAX_CHAR]
        order = "DESC" if reverse else "ASC"
        sql = f"SELECT * FROM {self.table} WHERE {' AND '.join(clauses)} ORDER BY name {order} LIMIT ?"
        return conn.execute(sql, (*params, count)).fetchall()

    def merge_rows(self, rows: builtins.list[dict]) -> None:
        """Apply another replica's rows; each row's own timestamps decide."""
        with self._connect(write=True) as conn:
            for row in rows:
                self._merge(conn, row)

    @staticmethod
    def _merge(conn, row: dict) -> None:
        raise NotImplementedError

    def merge_from(self, info: dict, rows: builtins.list[dict]) -> None:
        """Take in another replica of this database (its info and rows): created if
        missing, then rows, metadata and deletion merged -- timestamps decide."""
        self.initialize(info["put_timestamp"], **json.loads(info["name"]))
        self.merge_rows(rows)
        for key, (value, ts) in info["metadata"].items():
            self.update_metadata({key: value}, ts)
        if info["delete_timestamp"] != "0":
            self.mark_deleted(info["delete_timestamp"])

    def reclaim(self, cutoff: str) -> int:
        """Drop rows deleted before ``cutoff`` (a timestamp); how many went.  A deleted row
        is kept only so that merging replicas spreads the deletion; once every replica
        has had the reclaim age to take it in, it is no longer needed (Swift's reclaim)."""
        with self._connect(write=True) as conn:
            return conn.execute(f"DELETE FROM {self.table} WHERE deleted = 1 AND {self.deleted_at} < ?",
                                (cutoff,)).rowcount

    def digest(self) -> str:
        """What replication compares between replicas: equal when they hold the same rows,
        metadata and put/delete timestamps (a database's file name, which tells object
        replicas apart, never changes); "" while the database does not exist."""
        info = self.info()
        if info is None:
            return ""
        md5 = hashlib.md5(usedforsecurity=False)
        md5.update(json.dumps([info["put_timestamp"], info["delete_timestamp"], info["metadata"]],
                              sort_keys=True).encode())
        with self._connect() as conn:
            for row in conn.execute(f"SELECT * FROM {self.table} ORDER BY name"):
                md5.update(json.dumps(list(row)).encode())
        return md5.hexdigest()

    def all_rows(self) -> builtins.list[dict]:
        """Every row, tombstones included, for replication."""
        with self._connect() as conn:
            return [dict(r) for r in conn.execute(f"SELECT * FROM {self.table}")]


class ContainerBroker(Broker):
    table = "object"
    deleted_at = "created_at"  # a deletion's row carries the time of the deletion
    schema = """
        CREATE TABLE IF NOT EXISTS info (name TEXT, created_at TEXT, put_timestamp TEXT,
            delete_timestamp TEXT, object_count INTEGER DEFAULT 0, bytes_used INTEGER DEFAULT 0,
            metadata TEXT);
        CREATE TABLE IF NOT EXISTS object (name TEXT PRIMARY KEY, created_at TEXT, size INTEGER,
            content_type TEXT, etag TEXT, deleted INTEGER)
    """

    def put_object(self, name: str, created_at: str, size: int, content_type: str, etag: str,
                   deleted: bool) -> None:
        """Record an object version (or its deletion) unless a newer one is already known;
        concurrent calls for this database share one transaction."""
        _OBJECT_ROWS.run(str(self.path), dict(name=name, created_at=created_at, size=size,
                                              content_type=content_type, etag=etag, deleted=int(deleted)),
                         self.merge_rows)

    @staticmethod
    def _merge(conn, row: dict) -> None:
        old = conn.execute("SELECT created_at, size, deleted FROM object WHERE name = ?",
                           (row["name"],)).fetchone()
        if old is not None and old["created_at"] >= row["created_at"]:
            return
        count = (0 if row["deleted"] else 1) - (0 if old is None or old["deleted"] else 1)
        size = (0 if row["deleted"] else row["size"]) - (0 if old is None or old["deleted"] else old["size"])
        conn.execute("INSERT OR REPLACE INTO object (name, created_at, size, content_type, etag, deleted) "
                     "VALUES (:name, :created_at, :size, :content_type, :etag, :deleted)", row)
        conn.execute("UPDATE info SET object_count = object_count + ?, bytes_used = bytes_used + ?",
                     (count, size))


class AccountBroker(Broker):
    table = "container"
    deleted_at = "delete_timestamp"
    schema = """
        CREATE TABLE IF NOT EXISTS info (name TEXT, created_at TEXT, put_timestamp TEXT,
            delete_timestamp TEXT, metadata TEXT);
        CREATE TABLE IF NOT EXISTS container (name TEXT PRIMARY KEY, put_timestamp TEXT,
            delete_timestamp TEXT, object_count INTEGER, bytes_used INTEGER, deleted INTEGER)
    """

    def put_container(self, name: str, put_timestamp: str, delete_timestamp: str, object_count: int,
                      bytes_used: int) -> None:
        with self._connect(write=True) as conn:
            self._merge(conn, dict(name=name, put_timestamp=put_timestamp, delete_timestamp=delete_timestamp,
                                   object_count=object_count, bytes_used=bytes_used))

    def report(self, name: str, container_info: Callable[[], dict | None]) -> None:
        """Copy a container replica's counts, read *inside* this database's write lock.

        Whoever takes the lock last reads a container state that includes every
        committed change, so concurrent object writes cannot leave stale counts here.
        Concurrent reports to this database share one transaction, reading each
        container once.
        """
        _REPORTS.run(str(self.path), (name, container_info), self._apply_reports)

    def _apply_reports(self, reports: builtins.list[tuple[str, Callable[[], dict | None]]]) -> None:
        latest = dict(reports)  # one read per container: all read the same database
        with self._connect(write=True) as conn:
            for name, container_info in latest.items():
                info = container_info()
                if info is None:
                    continue
                self._merge(conn, dict(name=name, put_timestamp=info["put_timestamp"],
                                       delete_timestamp=info["delete_timestamp"],
                                       object_count=info["object_count"], bytes_used=info["bytes_used"]))

    @staticmethod
    def _merge(conn, row: dict) -> None:
        old = conn.execute("SELECT put_timestamp, delete_timestamp FROM container WHERE name = ?",
                           (row["name"],)).fetchone()
        row = dict(row)
        if old is not None:
            row["put_timestamp"] = max(old["put_timestamp"], row["put_timestamp"])
            row["delete_timestamp"] = max(old["delete_timestamp"], row["delete_timestamp"])
        row["deleted"] = int(row["delete_timestamp"] > row["put_timestamp"])
        conn.execute("INSERT OR REPLACE INTO container (name, put_timestamp, delete_timestamp, object_count, "
                     "bytes_used, deleted) VALUES (:name, :put_timestamp, :delete_timestamp, :object_count, "
                     ":bytes_used, :deleted)", row)

    def totals(self) -> dict:
        with self._connect() as conn:
            row = conn.execute("SELECT count(*), coalesce(sum(object_count), 0), coalesce(sum(bytes_used), 0) "
                               "FROM container WHERE deleted = 0").fetchone()
        return {"container_count": row[0], "object_count": row[1], "bytes_used": row[2]}


_OBJECT_ROWS = Batcher()
_REPORTS = Batcher()


def db_path(directory: Path) -> Path:
    """``<hash dir>/<hash>.db``: Swift's name for a replica's database file."""
    return directory / (os.path.basename(directory) + ".db")
