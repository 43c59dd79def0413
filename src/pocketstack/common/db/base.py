"""The declarative base every service's models derive from, and column helpers.

All services share one ``MetaData`` (so one database and one migration run serve the
all-in-one cloud) but each service owns its own tables, prefixed by nothing more than
clear names; a service never reads another service's tables.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from sqlalchemy import MetaData, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def new_id() -> str:
    """A 32-character hex id, the shape Keystone and most OpenStack services use."""
    return uuid.uuid4().hex


def utcnow() -> dt.datetime:
    """Naive UTC now: every backend stores naive datetimes the same way."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class JSONText(TypeDecorator[Any]):
    """JSON stored as TEXT, so it behaves identically on SQLite, PostgreSQL and MariaDB."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return json.dumps(value, separators=(",", ":"), sort_keys=True)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return json.loads(value)
