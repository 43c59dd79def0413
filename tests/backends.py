"""Scratch databases on each backend the test suite runs against.

Each test session creates its own uniquely named database on PostgreSQL and MariaDB and
drops it at the end, so runs never see each other's data or leave anything behind.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

from support import require_service

ALL_BACKENDS = ("sqlite", "postgresql", "mariadb")


def selected_backends() -> list[str]:
    """``POCKETSTACK_TEST_BACKENDS=sqlite,postgresql`` narrows the matrix (default: all)."""
    raw = os.environ.get("POCKETSTACK_TEST_BACKENDS", ",".join(ALL_BACKENDS))
    chosen = [b.strip() for b in raw.split(",") if b.strip()]
    unknown = set(chosen) - set(ALL_BACKENDS)
    if unknown:
        raise ValueError(f"unknown backends in POCKETSTACK_TEST_BACKENDS: {sorted(unknown)}")
    return chosen


@contextlib.contextmanager
def scratch_database(backend: str, tmp_dir) -> Iterator[str]:
    """Yield a SQLAlchemy URL of an empty database on ``backend``; drop it afterwards."""
    name = "pocketstack_test_" + uuid.uuid4().hex[:12]
    if backend == "sqlite":
        yield f"sqlite:///{tmp_dir}/{name}.db"
        return
    if backend == "postgresql":
        require_service("postgresql")
        import psycopg

        with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        finally:
            with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return
    if backend == "mariadb":
        require_service("mariadb")
        import pymysql

        conn = pymysql.connect(host="127.0.0.1", user="root", password="", autocommit=True)
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
        conn.close()
        try:
            yield f"mysql+pymysql://root@127.0.0.1:3306/{name}?charset=utf8mb4"
        finally:
            conn = pymysql.connect(host="127.0.0.1", user="root", password="", autocommit=True)
            with conn.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
            conn.close()
        return
    raise ValueError(backend)
