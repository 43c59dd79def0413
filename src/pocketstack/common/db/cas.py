"""Compare-and-swap updates and the bounded, jittered retry loop around them.

Contended rows (quota usage, provider capacity, IP allocations, state transitions) are
never locked with a row-locking SELECT: write-intent locks are not replicated by
Galera multi-writer clusters, so two writers on two nodes would both "hold" the lock.
Instead a writer reads a row, computes the new values, and issues::

    UPDATE t SET <new values> WHERE id = :id AND <the values we read>

If no row matched, someone else changed it first: :class:`ConcurrentUpdate` is raised, the
transaction is rolled back and :func:`run_in_transaction` re-runs the whole unit of work
on fresh data after a short random sleep.  Deadlock, serialization-failure and Galera
certification errors are retried the same way, as a backstop only.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

if TYPE_CHECKING:
    from pocketstack.common.db.engine import Database

LOG = logging.getLogger(__name__)
T = TypeVar("T")

# MySQL/MariaDB: 1213 deadlock (also Galera certification failure), 1205 lock wait
# timeout; PostgreSQL: 40001 serialization failure, 40P01 deadlock.
_MYSQL_RETRY_CODES = {1213, 1205}
_PG_RETRY_STATES = {"40001", "40P01"}


class ConcurrentUpdate(Exception):
    """A compare-and-swap lost a race: the row no longer holds the values we read."""


class RetriesExhausted(Exception):
    """A unit of work kept conflicting beyond its retry budget."""


def changed_rows(session: Session, stmt: Executable, **kwargs: Any) -> int:
    """Execute an UPDATE or DELETE and return how many rows it changed.

    A DML statement's result is a ``CursorResult`` (which has ``rowcount``), but
    ``Session.execute`` is typed as returning a plain ``Result``: the cast lives here once."""
    return cast("CursorResult[Any]", session.execute(stmt, **kwargs)).rowcount


def cas_update(session: Session, model: Any, where: Mapping[str, Any], values: Mapping[str, Any]) -> None:
    """``UPDATE model SET values WHERE where`` that must hit exactly one row.

    ``where`` holds the primary key *and* every value the caller's decision was based
    on.  Raises :class:`ConcurrentUpdate` when another writer got there first.
    """
    table = model.__table__ if hasattr(model, "__table__") else model
    stmt = sa.update(table).where(*(table.c[k] == v for k, v in where.items())).values(**values)
    if changed_rows(session, stmt, execution_options={"synchronize_session": False}) != 1:
        raise ConcurrentUpdate(f"{table.name}: row changed concurrently ({dict(where)!r})")


def is_retryable_db_error(error: BaseException) -> bool:
    """True for deadlocks, serialization failures, certification conflicts, busy SQLite."""
    if not isinstance(error, sa_exc.DBAPIError):
        return False
    orig = error.orig
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if sqlstate in _PG_RETRY_STATES:
        return True
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int) and args[0] in _MYSQL_RETRY_CODES:
        return True
    return "database is locked" in str(orig)


def conflict_kind(error: BaseException) -> str | None:
    """What kind of conflict ``error`` is (``cas``: a compare-and-swap lost; ``database``:
    a deadlock, serialization or certification failure), None if it is none: the label
    of the conflict metrics (common/metrics.py)."""
    if isinstance(error, ConcurrentUpdate):
        return "cas"
    return "database" if is_retryable_db_error(error) else None


def backoff_delays(attempts: int, base: float = 0.002, cap: float = 0.5) -> Iterator[float]:
    """Full-jitter exponential delays: racing writers spread out instead of re-colliding.
    The cap is half a second: a hundred boots of one project racing on its quota rows
    across three Galera nodes on a loaded 2-core machine (load 6) still lost twenty
    rounds in a row with a 0.25 s cap (tests/integration/test_galera_races.py)."""
    for attempt in range(attempts):
        yield random.uniform(0, min(cap, base * (2 ** attempt)))


def run_in_transaction(db: Database, work: Callable[[Session], T], *, attempts: int = 30,
                       readonly: bool = False) -> T:
    """Run ``work(session)`` in a transaction, re-running it on conflicts.

    ``work`` must be safe to re-run from the start: it re-reads what it needs inside
    the transaction.  Non-retryable exceptions propagate unchanged on the first try.
    """
    last: BaseException | None = None
    metrics = db.metrics
    for delay in backoff_delays(attempts):
        if last is not None:
            metrics.db_retry("transaction")
        try:
            with db.session(readonly=readonly) as session:
                return work(session)
        except (ConcurrentUpdate, sa_exc.DBAPIError) as error:
            kind = conflict_kind(error)
            if kind is None:
                raise
            metrics.db_conflict("transaction", kind)
            LOG.debug("retrying after database conflict: %s", error)
            last = error
        time.sleep(delay)
    metrics.db_gave_up("transaction")
    raise RetriesExhausted(f"gave up after {attempts} attempts: {last}") from last
