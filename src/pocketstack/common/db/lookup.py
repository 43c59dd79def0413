"""Loading one row by primary key or by a unique column, or the caller's named not-found error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute, Session

T = TypeVar("T")


def get_or_raise(session: Session, model: type[T], key: Any, missing: Callable[[], Exception]) -> T:
    """``model``'s row ``key``; ``missing()`` is raised when there is none (each service
    names its own 404, with the id in its message)."""
    row = session.get(model, key)
    if row is None:
        raise missing()
    return row


def find_or_raise(session: Session, column: InstrumentedAttribute[Any], value: Any,
                  missing: Callable[[], Exception]) -> Any:
    """The row whose unique ``column`` equals ``value`` (a public UUID beside an integer
    primary key); ``missing()`` is raised when there is none."""
    row = session.scalar(sa.select(column.class_).where(column == value))
    if row is None:
        raise missing()
    return row
