"""The engine's and the API's reads and writes of stacks, resources and events.

Synchronous (callers run them in threads), each one short transaction.  Stack rows
change only by compare-and-swap on ``(traversal, engine_id)``; resource rows by
compare-and-swap on ``generation``, with the event of the transition in the same
transaction: what the events say happened is what the rows say.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common.db import Database
from pocketstack.common.db.base import utcnow
from pocketstack.common.db.cas import cas_update, changed_rows, run_in_transaction
from pocketstack.orchestration import errors
from pocketstack.orchestration import models as m

IN_PROGRESS, COMPLETE, FAILED = "IN_PROGRESS", "COMPLETE", "FAILED"


class StackMoved(Exception):
    """The stack went on to another traversal: its older one may write nothing more."""


@dataclass
class NewResource:
    name: str
    type: str
    physical_name: str
    requires: list[str]
    data: dict[str, Any] = field(default_factory=dict)


def _detached(session: Session, rows: Iterable[Any]) -> list[Any]:
    rows = list(rows)
    for row in rows:
        session.expunge(row)
    return rows


def event(session: Session, stack_id: str, name: str, rtype: str, physical_id: str | None, action: str,
          status: str, reason: str) -> None:
    session.add(m.Event(id=str(uuid.uuid4()), stack_id=stack_id, resource_name=name, resource_type=rtype,
                        physical_resource_id=physical_id, action=action, status=status, reason=reason,
                        created_at=utcnow()))


class Store:
    def __init__(self, db: Database):
        self.db = db

    # -- stacks ---------------------------------------------------------------------------
    def create_stack(self, stack: m.Stack, resources: list[NewResource]) -> m.Stack:
        """Insert a new stack (``CREATE_IN_PROGRESS``) with its resources (``INIT_COMPLETE``);
        409 when the project already has a live stack of that name."""
        def work(s: Session) -> m.Stack:
            taken = s.scalar(sa.select(m.Stack.id).where(m.Stack.project_id == stack.project_id,
                                                          m.Stack.name == stack.name, m.Stack.deleted_at.is_(None)))
            if taken:
                raise errors.StackExists(stack_name=stack.name)
            s.add(stack)
            s.flush()
            for new in resources:
                s.add(m.Resource(id=str(uuid.uuid4()), stack_id=stack.id, name=new.name, type=new.type,
                                 physical_name=new.physical_name, requires=new.requires, data=new.data))
            event(s, stack.id, stack.name, "OS::Heat::Stack", stack.id, stack.action, stack.status,
                  stack.status_reason)
            s.flush()
            s.expunge(stack)
            return stack
        return run_in_transaction(self.db, work)

    def stack(self, stack_id: str, project_id: str | None = None) -> m.Stack | None:
        with self.db.session(readonly=True) as s:
            query = sa.select(m.Stack).where(m.Stack.id == stack_id, m.Stack.deleted_at.is_(None))
            if project_id is not None:
                query = query.where(m.Stack.project_id == project_id)
            row = s.scalar(query)
            return _detached(s, [row])[0] if row is not None else None

    def stack_by_name(self, name: str, project_id: str) -> m.Stack | None:
        with self.db.session(readonly=True) as s:
            row = s.scalar(sa.select(m.Stack).where(m.Stack.name == name, m.Stack.project_id == project_id,
                                                    m.Stack.deleted_at.is_(None)))
            return _detached(s, [row])[0] if row is not None else None

    def stacks(self, project_id: str | None, show_nested: bool = False) -> list[m.Stack]:
        """Live stacks, newest first; nested stacks only with ``show_nested`` (Heat's)."""
        with self.db.session(readonly=True) as s:
            query = sa.select(m.Stack).where(m.Stack.deleted_at.is_(None)).order_by(m.Stack.created_at.desc(),
                                                                                    m.Stack.id)
            if project_id is not None:
                query = query.where(m.Stack.project_id == project_id)
            if not show_nested:
                query = query.where(m.Stack.owner_id.is_(None))
            return _detached(s, s.scalars(query))

    def children(self, stack_ids: Iterable[str]) -> list[m.Stack]:
        """The live nested stacks of ``stack_ids`` (one level down)."""
        with self.db.session(readonly=True) as s:
            return _detached(s, s.scalars(sa.select(m.Stack).where(
                m.Stack.owner_id.in_(list(stack_ids)), m.Stack.deleted_at.is_(None)).order_by(m.Stack.created_at)))

    def begin(self, stack: m.Stack, action: str, reason: str, status: str = IN_PROGRESS, **values: Any) -> str:
        """Start a new traversal (``action`` IN_PROGRESS) of a stack no engine may drive
        any more (the current one, if any, loses its lease at its next renewal); the new
        traversal's id.  409 when the stack changed under the caller.  With another
        ``status`` the stack ends there instead (an operation cancelled): no engine takes
        it, and the one driving it is refused its next write."""
        traversal = str(uuid.uuid4())

        def work(s: Session) -> None:
            try:
                cas_update(s, m.Stack, {"id": stack.id, "traversal": stack.traversal},
                           {"action": action, "status": status, "status_reason": reason,
                            "traversal": traversal, "engine_id": None, "lease_expires": None,
                            "updated_at": utcnow(), **values})
            except Exception:
                raise errors.ActionInProgress(stack_name=stack.name, action=stack.action) from None
            event(s, stack.id, stack.name, "OS::Heat::Stack", stack.id, action, status, reason)
        run_in_transaction(self.db, work, attempts=1)
        return traversal

    def abandon(self, stack: m.Stack, nested: Iterable[m.Stack] = ()) -> None:
        """Remove the stack record as it was read (409 when it changed since), whatever
        it is doing, and the records of its ``nested`` stacks (as read too): a new
        traversal each, so an engine still driving one is refused its next write; their
        resources' rows stay with them, their physical resources untouched."""
        def work(s: Session) -> None:
            for row in [stack, *nested]:
                try:
                    cas_update(s, m.Stack, {"id": row.id, "traversal": row.traversal},
                               {"action": "DELETE", "status": COMPLETE, "status_reason": "Stack abandoned",
                                "traversal": str(uuid.uuid4()), "engine_id": None, "lease_expires": None,
                                "updated_at": utcnow(), "deleted_at": utcnow()})
                except Exception:
                    raise errors.ActionInProgress(stack_name=row.name, action=row.action) from None
                event(s, row.id, row.name, "OS::Heat::Stack", row.id, "DELETE", COMPLETE, "Stack abandoned")
        run_in_transaction(self.db, work, attempts=1)

    def trust_held(self, trust_id: str, besides: str) -> bool:
        """Whether a stack that is not deleted, other than ``besides``, holds the trust."""
        with self.db.session(readonly=True) as s:
            return s.scalar(sa.select(m.Stack.id).where(m.Stack.trust_id == trust_id, m.Stack.id != besides,
                                                        m.Stack.deleted_at.is_(None)).limit(1)) is not None

    def claimable(self, now: dt.datetime) -> list[str]:
        """Stacks with an operation in progress that no live engine drives."""
        with self.db.session(readonly=True) as s:
            return list(s.scalars(sa.select(m.Stack.id).where(
                m.Stack.status == IN_PROGRESS, m.Stack.deleted_at.is_(None),
                sa.or_(m.Stack.engine_id.is_(None), m.Stack.lease_expires < now))))

    def own(self, engine_id: str) -> list[str]:
        with self.db.session(readonly=True) as s:
            return list(s.scalars(sa.select(m.Stack.id).where(
                m.Stack.status == IN_PROGRESS, m.Stack.deleted_at.is_(None), m.Stack.engine_id == engine_id)))

    def claim(self, stack_id: str, engine_id: str, lease: float) -> m.Stack | None:
        """Take the lease of a stack whose operation is in progress and that nobody else
        drives (never leased, lease expired, or this engine's own from before a
        restart); the stack, or None when another engine holds it."""
        def work(s: Session) -> m.Stack | None:
            now = utcnow()
            stmt = sa.update(m.Stack).where(
                m.Stack.id == stack_id, m.Stack.status == IN_PROGRESS, m.Stack.deleted_at.is_(None),
                sa.or_(m.Stack.engine_id.is_(None), m.Stack.engine_id == engine_id, m.Stack.lease_expires < now),
            ).values(engine_id=engine_id, lease_expires=now + dt.timedelta(seconds=lease))
            if changed_rows(s, stmt, execution_options={"synchronize_session": False}) != 1:
                return None
            row = s.get(m.Stack, stack_id)
            return _detached(s, [row])[0] if row is not None else None
        return run_in_transaction(self.db, work)

    def renew(self, stack_id: str, engine_id: str, traversal: str, lease: float) -> bool:
        def work(s: Session) -> bool:
            stmt = sa.update(m.Stack).where(m.Stack.id == stack_id, m.Stack.engine_id == engine_id,
                                            m.Stack.traversal == traversal, m.Stack.status == IN_PROGRESS).values(
                lease_expires=utcnow() + dt.timedelta(seconds=lease))
            return changed_rows(s, stmt, execution_options={"synchronize_session": False}) == 1
        return run_in_transaction(self.db, work)

    def finish(self, stack: m.Stack, engine_id: str, action: str, status: str, reason: str,
               **values: Any) -> bool:
        """End the traversal ``stack.traversal`` (held by ``engine_id``) as ``action``
        ``status``; False when the stack moved on without this engine."""
        def work(s: Session) -> bool:
            stmt = sa.update(m.Stack).where(m.Stack.id == stack.id, m.Stack.engine_id == engine_id,
                                            m.Stack.traversal == stack.traversal).values(
                action=action, status=status, status_reason=reason, engine_id=None, lease_expires=None,
                updated_at=utcnow(), **values)
            if changed_rows(s, stmt, execution_options={"synchronize_session": False}) != 1:
                return False
            event(s, stack.id, stack.name, "OS::Heat::Stack", stack.id, action, status, reason)
            return True
        return run_in_transaction(self.db, work)

    def switch(self, stack: m.Stack, engine_id: str, action: str, reason: str, **values: Any) -> m.Stack | None:
        """Go on, under the same lease, with a new traversal for ``action`` (a rollback
        after a failure); the stack as it is now, or None when it moved on."""
        traversal = str(uuid.uuid4())

        def work(s: Session) -> m.Stack | None:
            stmt = sa.update(m.Stack).where(m.Stack.id == stack.id, m.Stack.engine_id == engine_id,
                                            m.Stack.traversal == stack.traversal).values(
                action=action, status=IN_PROGRESS, status_reason=reason, traversal=traversal,
                updated_at=utcnow(), **values)
            if changed_rows(s, stmt, execution_options={"synchronize_session": False}) != 1:
                return None
            event(s, stack.id, stack.name, "OS::Heat::Stack", stack.id, action, IN_PROGRESS, reason)
            row = s.get(m.Stack, stack.id)
            return _detached(s, [row])[0] if row is not None else None
        return run_in_transaction(self.db, work)

    # -- resources ------------------------------------------------------------------------
    def resources(self, stack_id: str) -> list[m.Resource]:
        with self.db.session(readonly=True) as s:
            return _detached(s, s.scalars(sa.select(m.Resource).where(m.Resource.stack_id == stack_id)
                                          .order_by(m.Resource.created_at, m.Resource.name)))

    def resource(self, resource_id: str) -> m.Resource | None:
        with self.db.session(readonly=True) as s:
            row = s.get(m.Resource, resource_id)
            return _detached(s, [row])[0] if row is not None else None

    def add_resources(self, stack_id: str, resources: list[NewResource]) -> None:
        """Rows for the resources a new template adds (those missing only)."""
        def work(s: Session) -> None:
            present = set(s.scalars(sa.select(m.Resource.name).where(m.Resource.stack_id == stack_id)))
            for new in resources:
                if new.name not in present:
                    s.add(m.Resource(id=str(uuid.uuid4()), stack_id=stack_id, name=new.name, type=new.type,
                                     physical_name=new.physical_name, requires=new.requires))
        run_in_transaction(self.db, work)

    def move(self, row: m.Resource, stack: m.Stack, *, event_reason: str | None = None, **values: Any) -> m.Resource:
        """Write ``values`` to a resource row if the stack is still in ``stack``'s
        traversal (:class:`StackMoved` otherwise) and the row's generation is still the
        one read (RetriesExhausted otherwise: someone else wrote it), with the transition's
        event when ``event_reason`` is given; the row as written."""
        def work(s: Session) -> m.Resource:
            if s.scalar(sa.select(m.Stack.traversal).where(m.Stack.id == stack.id)) != stack.traversal:
                raise StackMoved(f"stack {stack.id} moved to another traversal")
            cas_update(s, m.Resource, {"id": row.id, "generation": row.generation},
                       {**values, "generation": row.generation + 1, "updated_at": utcnow()})
            fresh = s.get(m.Resource, row.id)
            assert fresh is not None
            if event_reason is not None:
                event(s, stack.id, fresh.name, fresh.type, fresh.physical_resource_id, fresh.action, fresh.status,
                      event_reason)
            return _detached(s, [fresh])[0]
        return run_in_transaction(self.db, work, attempts=1)

    def add_signal(self, row: m.Resource, entry: Callable[[dict[str, Any]], tuple[str, dict[str, Any], str]]) -> None:
        """Record a signal in a resource's ``data["signals"]`` (id -> signal, in
        arrival order) and its ``SIGNAL`` event, by compare-and-swap on the row's
        generation whatever the stack's traversal: the signal is the outside world's,
        not an engine's.  ``entry(signals)`` makes ``(id, signal, reason)`` from the
        signals already there (re-run when the row changed under it)."""
        def work(s: Session) -> None:
            fresh = s.get(m.Resource, row.id)
            if fresh is None:
                raise errors.ResourceNotFound(resource_name=row.name, stack_name=row.stack_id)
            data = dict(fresh.data or {})
            signals = dict(data.get("signals") or {})
            key, signal, reason = entry(signals)
            signals[key] = signal
            cas_update(s, m.Resource, {"id": fresh.id, "generation": fresh.generation},
                       {"data": {**data, "signals": signals}, "generation": fresh.generation + 1})
            event(s, fresh.stack_id, fresh.name, fresh.type, fresh.physical_resource_id, "SIGNAL", fresh.status,
                  reason)
        run_in_transaction(self.db, work)

    def drop_resource(self, row: m.Resource) -> None:
        def work(s: Session) -> None:
            s.execute(sa.delete(m.Resource).where(m.Resource.id == row.id, m.Resource.generation == row.generation))
        run_in_transaction(self.db, work)

    # -- events -----------------------------------------------------------------------------
    def events(self, stack_id: str | list[str], resource_name: str | None = None) -> list[m.Event]:
        """The events of a stack (or of several: a stack and its nested stacks), in order."""
        ids = [stack_id] if isinstance(stack_id, str) else stack_id
        with self.db.session(readonly=True) as s:
            query = sa.select(m.Event).where(m.Event.stack_id.in_(ids)).order_by(m.Event.seq)
            if resource_name is not None:
                query = query.where(m.Event.resource_name == resource_name)
            return _detached(s, s.scalars(query))
