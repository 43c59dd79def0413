"""Inserting a row whose unique key may already be taken, without aborting the transaction.

Unique things (IP addresses, MACs, segmentation ids, a project's first quota usage row)
are allocated by INSERT under a unique constraint: the database decides who wins, and a
loser simply tries another candidate (or finds the row that beat it).  These helpers
make "taken" an answer instead of an exception that would abort the caller's unit of
work, and turn the database's own abort of it (a deadlock victim, a Galera
certification failure) into :class:`ConcurrentUpdate`, which
:func:`~pocketstack.common.db.cas.run_in_transaction` re-runs whole.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from pocketstack.common.db.cas import ConcurrentUpdate, is_retryable_db_error

_MYSQL_SAVEPOINT_DOES_NOT_EXIST = 1305


def try_insert(session: Session, insert: Callable[[], object]) -> bool:
    """Run ``insert`` in a savepoint; False (and the savepoint undone) on a unique clash.

    InnoDB may pick this transaction as a deadlock victim while it waits on another
    writer's uncommitted duplicate; it then rolls back the *whole* transaction, so the
    savepoint is gone too (error 1305 on ROLLBACK TO SAVEPOINT).  Either way the unit of
    work must start again: :class:`ConcurrentUpdate` makes the caller's
    ``run_in_transaction`` re-run it.
    """
    try:
        with session.begin_nested():
            insert()
        return True
    except sa_exc.IntegrityError:
        return False
    except sa_exc.DBAPIError as error:
        if is_retryable_db_error(error) or _savepoint_lost(error):
            raise ConcurrentUpdate("transaction rolled back by the database; re-running") from error
        raise


def insert_if_free(session: Session, table: sa.Table, values: dict[str, Any]) -> bool:
    """INSERT ``values`` unless a unique key is already taken; False when it was.

    PostgreSQL and SQLite say so with ``ON CONFLICT DO NOTHING`` (no savepoint: one round
    trip); MySQL's ``INSERT IGNORE`` would also swallow foreign-key errors, so there
    the statement runs in a savepoint instead.
    """
    dialect = session.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):
        return try_insert(session, lambda: session.execute(sa.insert(table).values(**values)))
    insert, do_nothing = _cacheable_on_conflict(dialect)
    statement = insert(table).values(**values)
    statement._post_values_clause = do_nothing()  # what on_conflict_do_nothing() sets, cacheable
    try:
        # RETURNING, not rowcount: the driver's rowcount is not reliable for this form.
        inserted = session.execute(statement.returning(*table.primary_key.columns)).first()
    except sa_exc.IntegrityError as error:
        # Not a duplicate (those are ignored) but a row we reference vanished meanwhile;
        # the transaction is aborted, so the unit of work starts again.
        raise ConcurrentUpdate("a referenced row changed; re-running") from error
    return inserted is not None


@functools.cache
def _cacheable_on_conflict(dialect: str) -> tuple[type, type]:
    """The dialect's ``Insert`` and ``ON CONFLICT DO NOTHING`` (imported when a database of
    it first inserts: PostgreSQL's module is ≈50 ms of a start), declared cacheable.

    SQLAlchemy 2.0 marks both ``inherit_cache = False``, so every ``ON CONFLICT``
    statement missed the compiled cache and was compiled anew (≈0.5 ms for a port's row,
    three such inserts per boot).  The Insert adds no state of its own to the base's cache
    key (its ON CONFLICT clause is already part of it), and a DO NOTHING without a
    conflict target has none at all, so both may share cached compilations safely."""
    module = importlib.import_module(f"sqlalchemy.dialects.{dialect}.dml")
    insert = type("Insert", (module.Insert,), {"inherit_cache": True})
    do_nothing = type("OnConflictDoNothing", (module.OnConflictDoNothing,),
                      {"inherit_cache": True, "_traverse_internals": []})
    return insert, do_nothing


def _savepoint_lost(error: sa_exc.DBAPIError) -> bool:
    args: tuple[Any, ...] = getattr(error.orig, "args", ())
    return bool(args) and args[0] == _MYSQL_SAVEPOINT_DOES_NOT_EXIST
