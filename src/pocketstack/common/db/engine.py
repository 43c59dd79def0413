"""Engine and session factory for SQLite (WAL), PostgreSQL and MariaDB/MySQL.

The URL decides the backend; everything above this module is backend-agnostic.  SQLite
gets WAL journaling and a busy timeout so that concurrent API threads queue for the
write lock instead of failing, and foreign keys switched on so it enforces what the
other backends enforce.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from pocketstack.common.db.guard import forbid_row_locks
from pocketstack.common.db.replay import note_effect
from pocketstack.common.health import Check
from pocketstack.common.metrics import DISCARD, Metrics


def _normalise_url(url: str) -> str:
    """Pick the drivers we ship for bare ``postgresql://`` and ``mysql://`` URLs."""
    for bare, full in (("postgresql://", "postgresql+psycopg://"),
                       ("postgres://", "postgresql+psycopg://"),
                       ("mysql://", "mysql+pymysql://"),
                       ("mariadb://", "mysql+pymysql://")):
        if url.startswith(bare):
            return full + url[len(bare):]
    return url


@dataclass(frozen=True)
class PoolLimits:
    """How many connections one process may hold: ``size`` kept open, up to ``overflow``
    more under load, and ``timeout`` seconds a caller waits for one before
    :class:`sqlalchemy.exc.TimeoutError` (answered as a 503).  A negative size or
    overflow means "the default": for PostgreSQL/MariaDB by process kind (an API process
    runs up to 40 handler threads, a worker a few tasks at a time, and the server's
    ``max_connections`` is shared by all of them); for SQLite, which has no server-side
    limit and queues writers on its lock anyway, a large pool."""

    size: int = -1
    overflow: int = -1
    timeout: float = 30.0
    serves_api: bool = True

    def resolved(self, sqlite: bool) -> tuple[int, int]:
        if sqlite:
            default = (20, 40)
        else:
            default = (8, 12) if self.serves_api else (3, 5)
        return (self.size if self.size >= 0 else default[0],
                self.overflow if self.overflow >= 0 else default[1])


def create_engine(url: str, pool: PoolLimits | None = None) -> Engine:
    url = _normalise_url(url)
    pool = pool or PoolLimits()
    size, overflow = pool.resolved(sqlite=url.startswith("sqlite"))
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                                  pool_size=size, max_overflow=overflow, pool_timeout=pool.timeout)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Autocommit mode off in the driver; we issue BEGIN ourselves below so that
            # every transaction takes the write lock up front when it writes.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            # Writers take the lock at BEGIN (IMMEDIATE) so a read-then-write transaction
            # never fails upgrading its snapshot; readers stay concurrent (DEFERRED).
            mode = "IMMEDIATE" if conn.get_execution_options().get("pocketstack_write", True) else "DEFERRED"
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine
    kwargs: dict[str, Any] = {"pool_pre_ping": True, "pool_size": size, "max_overflow": overflow,
                    "pool_timeout": pool.timeout, "pool_recycle": 3600}
    if url.startswith("mysql"):
        kwargs["isolation_level"] = "READ COMMITTED"
    return sa.create_engine(url, **kwargs)


_WROTE = "pocketstack_wrote"
SQLITE_BUSY_TIMEOUT = 30.0  # seconds: the busy_timeout pragma above (30000 ms)
_sqlite_writers: dict[str, threading.Lock] = {}
_sqlite_writers_guard = threading.Lock()


def _writer_queue(url: str) -> threading.Lock | None:
    """The process's queue for the write lock of one SQLite file (None for the other
    backends, whose writers do not exclude each other).

    A writer that finds the file locked waits in SQLite's busy handler, which sleeps in
    growing steps (up to 100 ms) and polls: under a stream of short write transactions
    most of a build's time went to those sleeps, and a woken writer often lost the lock
    again to one that just arrived.  Writers of one process queue here instead and take
    the lock the moment it is free; the busy handler still arbitrates between processes.
    A plain lock, not a re-entrant one: a session held across the yields of a generator
    may end in another thread than it began in.  (A nested write session in one thread
    could never have worked on SQLite: its ``BEGIN IMMEDIATE`` waits for the outer one.)
    Bounded by the busy timeout, after which the writer falls back to SQLite's own wait."""
    if not url.startswith("sqlite"):
        return None
    with _sqlite_writers_guard:
        return _sqlite_writers.setdefault(url, threading.Lock())


def _note_dml(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


def _wrote(session: Session) -> bool:
    """Whether committing ``session`` makes a change visible (for request replay)."""
    return bool(session.info.get(_WROTE) or session.new or session.dirty or session.deleted)


class Database:
    """One engine and its session factory; ``with db.session() as s:`` is a transaction."""

    def __init__(self, url: str, pool: PoolLimits | None = None, metrics: Metrics = DISCARD):
        self.url = _normalise_url(url)
        self.metrics = metrics  # where run_in_transaction counts conflicts and retries
        self.engine = create_engine(self.url, pool)
        forbid_row_locks(self.engine)
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)
        self._writers = _writer_queue(self.url)
        event.listen(self.session_factory, "do_orm_execute", _note_dml)
        event.listen(self.session_factory, "after_flush", lambda session, _ctx: session.info.update({_WROTE: True}))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.contextmanager
    def session(self, readonly: bool = False) -> Iterator[Session]:
        """A unit of work: committed on success, rolled back on any exception.

        ``readonly=True`` is a promise not to write; on SQLite it lets the transaction
        run beside a writer instead of queueing for the write lock.
        """
        queued = not readonly and self._writers is not None and \
            self._writers.acquire(timeout=SQLITE_BUSY_TIMEOUT)
        try:
            session = self.session_factory()
            session.connection(execution_options={"pocketstack_write": not readonly})
            try:
                yield session
                wrote = _wrote(session)
                session.commit()
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()
        finally:
            if queued and self._writers is not None:
                self._writers.release()
        if wrote:
            note_effect()

    def check(self) -> Check:
        """Whether the database answers a trivial query (the probes' ``database`` check)."""
        try:
            with self.engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError as error:
            return Check("database", False, f"unreachable ({type(error).__name__})")
        return Check("database", True, self.dialect)

    def dispose(self) -> None:
        self.engine.dispose()
