"""This process's copy of the fault rules and the one place that decides whether a fault
fires.

The rules live in the database (:mod:`.models`); each process keeps them in memory and
re-reads them when the shared generation moved.  A request checks the data directory's
change signal (:mod:`.signal`: one ``stat``), and the database's generation once every
``refresh_interval`` seconds, for processes that do not share the data directory; a fail
point (an asynchronous operation, rarer and already in a worker thread) reads the
generation every time.  Every change made here updates this process's copy at once.

Probability is drawn from a generator per rule (seeded with the rule's ``seed``, so a
test is repeatable); a ``count`` is taken from the database row by an atomic decrement,
so processes share it.  Every fault that fires is logged (rule id, request id, method,
path) and counted in the rule's ``fired``.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common import errors
from pocketstack.common.db import Database, new_id
from pocketstack.common.db.cas import changed_rows
from pocketstack.common.faults import ConnectionDropped, InjectedFault
from pocketstack.common.log import request_id_var
from pocketstack.faults.models import FaultGeneration, FaultRule
from pocketstack.faults.rules import Rule, parse
from pocketstack.faults.signal import ChangeSignal, Stamp

LOG = logging.getLogger(__name__)


class RuleNotFound(errors.NotFound):
    msg_fmt = "Fault rule {rule_id} could not be found."


class RuleExists(errors.Conflict):
    msg_fmt = "Fault rule {rule_id} already exists."


@dataclass
class _Active:
    """A rule as this process applies it: the rule and its random generator."""

    rule: Rule
    revision: int
    rng: random.Random = field(init=False)

    @property
    def key(self) -> tuple[Rule, int]:
        return self.rule, self.revision

    def __post_init__(self) -> None:
        self.rng = random.Random(self.rule.seed)

    def draw(self) -> bool:
        return self.rule.probability >= 1 or self.rng.random() < self.rule.probability


class Faults:
    """The fault rules of one cloud, as one process sees and applies them."""

    def __init__(self, db: Database, signal: ChangeSignal | None = None, refresh_interval: float | None = None):
        self.db = db
        self.signal = signal
        self.refresh_interval = refresh_interval
        self._seen: Stamp = None
        self._lock = threading.Lock()
        self._active: dict[str, _Active] = {}
        self._generation: int | None = None
        self._checked = -math.inf
        # Split by what they match, so neither path looks at the other's rules.
        self.request_rules: tuple[_Active, ...] = ()
        self.operation_rules: tuple[_Active, ...] = ()

    # -- staying current -------------------------------------------------------------
    def stale(self) -> bool:
        """Whether the shared generation is due to be checked: never loaded, the change
        signal moved, or the refresh interval passed."""
        if self._generation is None or (self.signal is not None and self.signal.stamp() != self._seen):
            return True
        return self.refresh_interval is not None and time.monotonic() - self._checked >= self.refresh_interval

    def refresh(self) -> None:
        """Re-read the rules if their generation moved (blocking: call it in a thread)."""
        seen = self.signal.stamp() if self.signal is not None else None  # before the read: a later change shows
        with self.db.session(readonly=True) as s:
            generation = s.scalar(sa.select(FaultGeneration.generation).where(FaultGeneration.id == 1)) or 0
            rows = None if generation == self._generation else s.scalars(
                sa.select(FaultRule).where(sa.or_(FaultRule.remaining.is_(None), FaultRule.remaining > 0))
                .order_by(FaultRule.revision, FaultRule.id)).all()
            found = None if rows is None else [(parse(row.spec, row.id), row.revision) for row in rows]
        with self._lock:
            if found is not None:
                self._install(generation, found)
            self._checked, self._seen = time.monotonic(), seen

    def _install(self, generation: int, found: list[tuple[Rule, int]]) -> None:
        """Make the rules ``found`` current, keeping the generator of every rule that
        is still the same one (a seeded rule's sequence goes on where it was; a rule
        removed and added again starts it over)."""
        old = self._active
        self._active = {rule.id: old[rule.id] if rule.id in old and old[rule.id].key == (rule, revision)
                        else _Active(rule, revision) for rule, revision in found}
        self.request_rules = tuple(a for a in self._active.values() if a.rule.action != "async_failure")
        self.operation_rules = tuple(a for a in self._active.values() if a.rule.action == "async_failure")
        self._generation = generation

    # -- firing ------------------------------------------------------------------------
    def match_request(self, service: str, method: str, path: str) -> Rule | None:
        """The first request rule that matches and whose draw says fire (no database)."""
        for active in self.request_rules:
            if active.rule.matches_request(service, method, path) and active.draw():
                return active.rule
        return None

    def take(self, rule: Rule, method: str, path: str) -> bool:
        """Count one firing of ``rule`` (blocking); False when its ``count`` ran out
        (another process took the last one).  A rule whose count runs out stays listed
        (``remaining`` 0, with what it ``fired``) but leaves every process's active rules."""
        with self.db.session() as s:
            query = sa.update(FaultRule).where(FaultRule.id == rule.id)
            if rule.count is not None:
                query = query.where(FaultRule.remaining > 0).values(remaining=FaultRule.remaining - 1)
            taken = changed_rows(s, query.values(fired=FaultRule.fired + 1)) == 1
            last = taken and rule.count is not None and s.scalar(
                sa.select(FaultRule.remaining).where(FaultRule.id == rule.id)) == 0
            generation = _bump(s) if last else None  # used up: out of every process's active rules
        if taken:
            LOG.warning("fault injected: rule=%s action=%s request_id=%s method=%s path=%s",
                        rule.id, rule.action, request_id_var.get(), method, path)
        if generation is not None:
            self._changed(generation)
        elif not taken:
            self.refresh()
        return taken

    async def intercept(self, service: str, method: str, path: str) -> None:
        """Apply the first request rule that fires for this request, if any (``path``:
        below the service's mount point): sleep (``latency``; the request then goes on),
        raise the error the service renders in its own format (``error``) or
        :class:`ConnectionDropped` (``drop``).  With no rules, returns at once."""
        if self.stale():
            await asyncio.to_thread(self.refresh)
        if not self.request_rules:
            return
        rule = self.match_request(service, method, path)
        if rule is None or not await asyncio.to_thread(self.take, rule, method, path):
            return
        if rule.action == "latency":
            await asyncio.sleep((rule.latency_ms or 0) / 1000)
        elif rule.action == "error":
            raise _error(rule)
        else:
            raise ConnectionDropped(rule.id)

    def check(self, service: str, operation: str) -> None:
        """The fail point of an asynchronous operation (see :mod:`pocketstack.common.faults`)."""
        self.refresh()
        for active in self.operation_rules:
            rule = active.rule
            if rule.matches_operation(service, operation) and active.draw() and \
                    self.take(rule, "ASYNC", f"{service}/{operation}"):
                raise InjectedFault(rule.message or f"Injected fault (rule {rule.id}): {service} {operation} failed.")

    # -- managing rules --------------------------------------------------------------
    def rules(self) -> list[dict[str, Any]]:
        """Every rule with its counters: ``fired`` and ``remaining`` (null: no limit)."""
        with self.db.session(readonly=True) as s:
            rows = s.scalars(sa.select(FaultRule).order_by(FaultRule.revision, FaultRule.id)).all()
            return [_view(row) for row in rows]

    def get(self, rule_id: str) -> dict[str, Any]:
        with self.db.session(readonly=True) as s:
            row = s.get(FaultRule, rule_id)
            if row is None:
                raise RuleNotFound(rule_id=rule_id)
            return _view(row)

    def add(self, data: Any) -> dict[str, Any]:
        """Add a rule from its JSON form (400 when invalid, 409 when its id is taken)."""
        rule = parse(data, new_id())
        with self.db.session() as s:
            if s.get(FaultRule, rule.id) is not None:
                raise RuleExists(rule_id=rule.id)
            generation = _bump(s)
            _store(s, rule, generation)
        self._changed(generation)
        return self.get(rule.id)

    def remove(self, rule_id: str) -> None:
        with self.db.session() as s:
            if changed_rows(s, sa.delete(FaultRule).where(FaultRule.id == rule_id)) == 0:
                raise RuleNotFound(rule_id=rule_id)
            generation = _bump(s)
        self._changed(generation)

    def clear(self) -> None:
        with self.db.session() as s:
            s.execute(sa.delete(FaultRule))
            generation = _bump(s)
        self._changed(generation)

    def load_file(self, path: str | Path) -> int:
        """Put the rules of a ``faults_file`` in place (see :mod:`.config_file`): each
        replaces the stored rule of the same id, so a restart starts their counts again."""
        from pocketstack.faults.config_file import read_rules

        rules = read_rules(Path(path))
        with self.db.session() as s:
            generation = _bump(s)
            for rule in rules:
                s.execute(sa.delete(FaultRule).where(FaultRule.id == rule.id))
                _store(s, rule, generation)
        self._changed(generation)
        return len(rules)

    def _changed(self, generation: int) -> None:
        """After a committed change: tell the processes sharing the data directory, and
        bring this process's copy up to date."""
        if self.signal is not None:
            self.signal.announce(generation)
        self.refresh()


def _error(rule: Rule) -> errors.ApiError:
    status = rule.status or 500
    headers = {"Retry-After": str(rule.retry_after)} if rule.retry_after is not None else {}
    message = rule.message or f"{HTTPStatus(status).phrase} (injected by fault rule {rule.id})."
    return errors.ApiError(message, status=status, error_type="InjectedFault", headers=headers)


def _bump(s: Session) -> int:
    """Move the shared generation on (an atomic increment); the new one."""
    s.execute(sa.update(FaultGeneration).where(FaultGeneration.id == 1)
              .values(generation=FaultGeneration.generation + 1))
    return s.scalar(sa.select(FaultGeneration.generation).where(FaultGeneration.id == 1)) or 0


def _store(s: Session, rule: Rule, revision: int) -> None:
    s.add(FaultRule(id=rule.id, spec=rule.as_dict(), remaining=rule.count, fired=0, revision=revision))


def _view(row: FaultRule) -> dict[str, Any]:
    return {**row.spec, "remaining": row.remaining, "fired": row.fired,
            "created_at": row.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")}
