"""Refuse row-locking SELECTs (FOR-UPDATE, FOR-SHARE) on every engine pocketstack creates.

The project's concurrency rule is compare-and-swap (see :mod:`.cas`); this guard turns
an accidental row lock into an immediate, loud error in every test and every process.
"""

from __future__ import annotations

import re

from sqlalchemy import event
from sqlalchemy.engine import Engine

_ROW_LOCK = re.compile(r"\bFOR\s+(NO\s+KEY\s+)?UPDATE\b|\bFOR\s+SHARE\b|\bLOCK\s+IN\s+SHARE\s+MODE\b",
                         re.IGNORECASE)


class RowLockForbidden(RuntimeError):
    """Raised when code issues a row-locking SELECT."""


def forbid_row_locks(engine: Engine) -> None:
    @event.listens_for(engine, "before_cursor_execute")
    def _check(conn, cursor, statement, parameters, context, executemany):
        if _ROW_LOCK.search(statement):
            raise RowLockForbidden(f"row-locking SQL is not allowed here: {statement[:200]}")
