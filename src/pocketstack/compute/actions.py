"""Instance actions and their events (``os-instance-actions``): the audit trail of who
asked for what, and how each step on the compute host went."""

from __future__ import annotations

import builtins
import contextlib
import traceback

import sqlalchemy as sa

from pocketstack.common.db import Database, utcnow
from pocketstack.compute import errors
from pocketstack.compute.models import Instance, InstanceAction, InstanceActionEvent


class Actions:
    def __init__(self, db: Database):
        self.db = db

    def start(self, instance_id: str, action: str, request_id: str, project_id: str | None,
              user_id: str | None) -> str:
        """Record an action; 404 if the instance vanished meanwhile (a delete finished between
        the caller's lookup and now).  Actions have no foreign key to the live instance:
        they outlive it, readable from 2.21 as Nova's."""
        row = InstanceAction(instance_id=instance_id, action=action, request_id=request_id,
                             project_id=project_id or "", user_id=user_id or "")
        with self.db.session() as s:
            if s.scalar(sa.select(Instance.id).where(Instance.id == instance_id)) is None:
                raise errors.InstanceNotFound(instance_id=instance_id)
            s.add(row)
        return row.id

    def fail(self, action_id: str | None, message: str = "Error") -> None:
        if action_id:
            with self.db.session() as s:
                s.execute(sa.update(InstanceAction).where(InstanceAction.id == action_id)
                          .values(message=message, updated_at=utcnow()))

    @contextlib.contextmanager
    def event(self, action_id: str | None, name: str, host: str | None):
        """Record one step: started now, finished with Success, or Error and the traceback."""
        if action_id is None:
            yield
            return
        event = InstanceActionEvent(action_id=action_id, event=name, host=host)
        with self.db.session() as s:
            s.add(event)
        try:
            yield
        except BaseException as error:
            self._finish(event.id, "Error", "".join(traceback.format_exception(error)))
            self.fail(action_id)
            raise
        self._finish(event.id, "Success", None)

    def _finish(self, event_id: str, result: str, tb: str | None) -> None:
        with self.db.session() as s:
            s.execute(sa.update(InstanceActionEvent).where(InstanceActionEvent.id == event_id)
                      .values(result=result, traceback=tb, finish_time=utcnow()))

    def list(self, instance_id: str) -> list[InstanceAction]:
        with self.db.session(readonly=True) as s:
            return list(s.scalars(sa.select(InstanceAction).where(InstanceAction.instance_id == instance_id)
                                  .order_by(InstanceAction.start_time.desc(), InstanceAction.id)))

    def get(self, instance_id: str, request_id: str) -> tuple[InstanceAction, builtins.list[InstanceActionEvent]]:
        with self.db.session(readonly=True) as s:
            action = s.scalar(sa.select(InstanceAction).where(InstanceAction.instance_id == instance_id,
                                                              InstanceAction.request_id == request_id))
            if action is None:
                raise errors.InstanceActionNotFound(request_id=request_id, instance_id=instance_id)
            events = list(s.scalars(sa.select(InstanceActionEvent).where(InstanceActionEvent.action_id == action.id)
                                    .order_by(InstanceActionEvent.start_time)))
        return action, events
