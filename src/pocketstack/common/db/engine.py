"""Engine and session factory for SQLite (WAL), PostgreSQL and MariaDB/MySQL.

The URL decides the backend; everything above this module is backend-agnostic.  SQLite
gets WAL journaling and a busy timeout so that concurrent API threads queue for the
write lock instead of failing, and foreign keys switched on so it enforces what the
other backends enforce.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from pocketstack.common.db.guard import forbid_row_locks


def _normalise_url(url: str) -> str:
    """Pick the drivers we ship for bare ``postgresql://`` and ``mysql://`` URLs."""
    for bare, full in (("postgresql://", "postgresql+psycopg://"),
                       ("postgres://", "postgresql+psycopg://"),
                       ("mysql://", "mysql+pymysql://"),
                       ("mariadb://", "mysql+pymysql://")):
        if url.startswith(bare):
            return full + url[len(bare):]
    return url


def create_engine(url: str) -> Engine:
    url = _normalise_url(url)
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                                  pool_size=20, max_overflow=40)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
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
        def _sqlite_begin(conn):
            # Writers take the lock at BEGIN (IMMEDIATE) so a read-then-write transaction
            # never fails upgrading its snapshot; readers stay concurrent (DEFERRED).
            mode = "IMMEDIATE" if conn.get_execution_options().get("pocketstack_write", True) else "DEFERRED"
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine
    kwargs: dict = {"pool_pre_ping": True, "pool_size": 20, "max_overflow": 40, "pool_recycle": 3600}
    if url.startswith("mysql"):
        kwargs["isolation_level"] = "READ COMMITTED"
    return sa.create_engine(url, **kwargs)


class Database:
    """One engine and its session factory; ``with db.session() as s:`` is a transaction."""

    def __init__(self, url: str):
        self.url = _normalise_url(url)
        self.engine = create_engine(self.url)
        forbid_row_locks(self.engine)
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.contextmanager
    def session(self, readonly: bool = False) -> Iterator[Session]:
        """A unit of work: committed on success, rolled back on any exception.

        ``readonly=True`` is a promise not to write; on SQLite it lets the transaction
        run beside a writer instead of queueing for the write lock.
        """
        session = self.session_factory()
        session.connection(execution_options={"pocketstack_write": not readonly})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
