"""Instance state changes, each one a compare-and-swap on the states it starts from.

``transition(db, id, expect={"task_state": None, "vm_state": [ACTIVE]}, values=...)``
issues ``UPDATE compute_instance SET ... WHERE id = :id AND task_state IS NULL AND
vm_state IN (...)`` and reports whether it won.  Nobody ever reads a state and then
writes it unconditionally, so two racing requests (stop and delete, say) can never both
think they own the instance.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common.db import Database, utcnow
from pocketstack.common.db.cas import changed_rows
from pocketstack.compute import errors
from pocketstack.compute.models import Instance


def _condition(column, expected: Any):
    if isinstance(expected, (list, tuple, set, frozenset)):
        values = list(expected)
        clauses = [column.in_([v for v in values if v is not None])]
        if None in values:
            clauses.append(column.is_(None))
        return sa.or_(*clauses)
    return column.is_(None) if expected is None else column == expected


def transition(db: Database, instance_id: str, expect: Mapping[str, Any], values: Mapping[str, Any],
               also: Callable[[Session], None] | None = None) -> bool:
    """Apply ``values`` if the instance is still in the ``expect``ed states; True if it was.
    ``also`` runs in the same transaction when it was (an action event's end, say)."""
    table = cast(sa.Table, Instance.__table__)
    stmt = (sa.update(table).where(table.c.id == instance_id,
                                   *(_condition(table.c[k], v) for k, v in expect.items()))
            .values(updated_at=utcnow(), **values))
    with db.session() as s:
        won = changed_rows(s, stmt) == 1
        if won and also is not None:
            also(s)
    return won


def load(db: Database, instance_id: str) -> Instance:
    with db.session(readonly=True) as s:
        instance = s.get(Instance, instance_id)
    if instance is None:
        raise errors.InstanceNotFound(instance_id=instance_id)
    return instance


def begin(db: Database, instance_id: str, action: str, vm_states: list[str], task_state: str | None,
          extra: Mapping[str, Any] | None = None, allowed_tasks: tuple = (None,)) -> Instance:
    """The API side of an action: move the instance into ``task_state`` if it is idle and in
    one of ``vm_states``; otherwise 409 with Nova's wording."""
    values = dict(extra or {})
    values["task_state"] = task_state
    if transition(db, instance_id, {"vm_state": vm_states, "task_state": list(allowed_tasks)}, values):
        return load(db, instance_id)
    instance = load(db, instance_id)
    if instance.task_state not in allowed_tasks:
        raise errors.InstanceInvalidState(action=action, instance_id=instance_id, attribute="task_state",
                                          state=instance.task_state)
    raise errors.InstanceInvalidState(action=action, instance_id=instance_id, attribute="vm_state",
                                      state=instance.vm_state)
