"""Refuse row-locking SELECTs (FOR-UPDATE, FOR-SHARE) on every engine pocketstack creates.

The project's concurrency rule is compare-and-swap (see :mod:`.cas`); this guard turns
an accidental row lock into an immediate, loud error in every test and every process.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

_ROW_LOCK = re.compile(r"\bFOR\s+(NO\s+KEY\s+)?UPDATE\b|\bFOR\s+SHARE\b|\bLOCK\s+IN\s+SHARE\s+MODE\b",
                         re.IGNORECASE)


class RowLockForbidden(RuntimeError):
    """Raised when code issues a row-locking SELECT."""


def forbid_row_locks(engine: Engine) -> None:
    # SQLite's dialect silently drops the row-lock clause, so also look at the statement:
    # code that would lock rows on PostgreSQL/MariaDB fails on SQLite too.
    @event.listens_for(engine, "before_execute")
    def _check_statement(conn: Any, clauseelement: Any, multiparams: Any, params: Any, execution_options: Any) -> None:
        if getattr(clauseelement, "_for_update_arg", None) is not None:
            raise RowLockForbidden(f"row-locking SELECT is not allowed here: {clauseelement}")

    @event.listens_for(engine, "before_cursor_execute")
    def _check(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if _ROW_LOCK.search(statement):
            raise RowLockForbidden(f"row-locking SQL is not allowed here: {statement[:200]}")
