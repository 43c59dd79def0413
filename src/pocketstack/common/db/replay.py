"""Re-running a whole request whose transaction lost a conflict, when that is safe.

On a Galera multi-writer cluster a transaction that touches a row another node changed
concurrently fails *at COMMIT* with error 1213 (certification failure), and PostgreSQL
may answer 40001/40P01; the transaction is rolled back and nothing of it exists.  Code
that knows its unit of work runs it in :func:`~pocketstack.common.db.cas.run_in_transaction`.
Everything else -- most API handlers are "read, check, write once" -- is covered here, at
the request: a handler is re-run from the start when such a conflict escapes it, *if*
nothing it did so far is visible outside the process.  That is what :class:`Effects`
records: a committed transaction that wrote, or an RPC message sent.  A handler that
already had an effect is not re-run (its conflict becomes a 503 with Retry-After), so a
replay never repeats work.

Every hot row in the tree (the identity generation row that every identity write bumps,
quota usage rows, group generations) is therefore retried whole without each write site
having to say so.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from pocketstack.common.db.cas import backoff_delays, conflict_kind
from pocketstack.common.metrics import DISCARD, Metrics

LOG = logging.getLogger(__name__)
T = TypeVar("T")
# As many as run_in_transaction's attempts: a hot row raced by two dozen writers on three
# Galera nodes under load (the identity generation row, tests/integration/
# test_galera_races.py) lost 8 replays in a row once, and a hundred boots of one project
# 20 once at load 6; 30 jittered pauses capped at 0.5 s give them several seconds, and a
# replay repeats nothing.
REPLAYS = 30


class Effects:
    """What the current request has done that another process can see."""

    def __init__(self) -> None:
        self.happened = False


_current: contextvars.ContextVar[Effects | None] = contextvars.ContextVar("pocketstack_effects", default=None)


def note_effect() -> None:
    """Record that the running request did something visible (a write committed, a
    message sent): from now on it must not be replayed."""
    effects = _current.get()
    if effects is not None:
        effects.happened = True


def run_replayable(work: Callable[..., T], *args: Any, metrics: Metrics = DISCARD) -> T:
    """``work(*args)``, re-run after a jittered pause while it fails with a database
    conflict before having any effect; the last conflict propagates otherwise.  Conflicts,
    replays and give-ups are counted in ``metrics`` (scope ``request``)."""
    delays = backoff_delays(REPLAYS)
    while True:
        effects = Effects()
        token = _current.set(effects)
        try:
            return work(*args)
        except Exception as error:
            kind = conflict_kind(error)
            if kind is None:
                raise
            metrics.db_conflict("request", kind)
            if effects.happened:
                raise
            delay = next(delays, None)
            if delay is None:
                metrics.db_gave_up("request")
                raise
            metrics.db_retry("request")
            LOG.info("replaying a request whose transaction lost a conflict: %s", error)
            time.sleep(delay)
        finally:
            _current.reset(token)
