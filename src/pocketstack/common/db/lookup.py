"""Loading one row by primary key, or the caller's named not-found error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

T = TypeVar("T")


def get_or_raise(session: Session, model: type[T], key: Any, missing: Callable[[], Exception]) -> T:
    """``model``'s row ``key``; ``missing()`` is raised when there is none (each service
    names its own 404, with the id in its message)."""
    row = session.get(model, key)
    if row is None:
        raise missing()
    return row
