"""Instance actions and their events (``os-instance-actions``): the audit trail of who
asked for what, and how each step on the compute host went."""

from __future__ import annotations

import builtins
import contextlib
import traceback
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common.db import Database, utcnow
from pocketstack.common.db.base import new_id
from pocketstack.compute import errors
from pocketstack.compute.models import Instance, InstanceAction, InstanceActionEvent


@dataclass
class Event:
    """A step being recorded (:meth:`Actions.event`).  A step whose last act is a write can
    record its own success in that write's transaction (:meth:`finish_in`, then
    :meth:`finished` once it committed): the server's new state and the event's end
    become visible together, one transaction fewer per step."""

    id: str | None
    done: bool = False
    # A deferred event (``Actions.event(..., deferred=True)``) has no row yet: its start is
    # kept here and the whole row is written once, when the step ends.
    pending: dict | None = None

    def finish_in(self, s: Session) -> None:
        if self.pending is not None:
            s.execute(sa.insert(InstanceActionEvent).values(
                **self.pending, result="Success", traceback=None, details=None, finish_time=utcnow()))
        elif self.id is not None:
            s.execute(_finish_statement(self.id, "Success", None))

    def finished(self) -> None:
        """The transaction that ran :meth:`finish_in` committed."""
        self.done = True


def _finish_statement(event_id: str, result: str, tb: str | None, details: str | None = None):
    return (sa.update(InstanceActionEvent).where(InstanceActionEvent.id == event_id)
            .values(result=result, traceback=tb, details=details, finish_time=utcnow()))


def failure_details(error: BaseException) -> str:
    """Nova's ``exception_to_dict(...)['message']`` for a failed event: the message of an
    error that is ours (Nova: a NovaException's), else only the exception's class name, which
    can leak nothing about the deployment."""
    if type(error).__module__.startswith("pocketstack."):
        text = getattr(error, "message", None) or str(error)
        if text:
            return text
    return type(error).__name__


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

    def start_many(self, instance_ids: builtins.list[str], action: str, request_id: str, project_id: str | None,
                   user_id: str | None) -> builtins.list[str | None]:
        """:meth:`start` for every server of one multi-create, in one transaction (a
        1000-server boot recorded its actions in 1000): the action ids, in order.  A
        server deleted meanwhile gets none (None in its place) instead of failing the
        others' records."""
        now = utcnow()
        rows: builtins.list[dict[str, object]] = [
            {"id": new_id(), "instance_id": i, "action": action, "request_id": request_id,
             "project_id": project_id or "", "user_id": user_id or "", "start_time": now, "updated_at": now}
            for i in instance_ids]
        with self.db.session() as s:
            live = set(s.scalars(sa.select(Instance.id).where(Instance.id.in_(instance_ids))))
            rows = [row for row in rows if row["instance_id"] in live]
            if rows:
                s.execute(sa.insert(InstanceAction), rows)
        recorded = {str(row["instance_id"]): str(row["id"]) for row in rows}
        return [recorded.get(i) for i in instance_ids]

    def fail(self, action_id: str | None, message: str = "Error") -> None:
        if action_id:
            with self.db.session() as s:
                s.execute(sa.update(InstanceAction).where(InstanceAction.id == action_id)
                          .values(message=message, updated_at=utcnow()))

    @contextlib.contextmanager
    def event(self, action_id: str | None, name: str, host: str | None, deferred: bool = False):
        """Record one step: started now, finished with Success, or Error and the traceback.
        Yields the :class:`Event`, whose success the step may record itself.

        ``deferred``: the row is written once, when the step ends (its start time is
        taken now): in the transaction of the step's last write (:meth:`Event.finish_in`),
        else on its own.  One transaction fewer per step, for the short steps of a build
        (scheduling, building), whose events are read once they ended."""
        if action_id is None:
            yield Event(None)
            return
        if deferred:
            pending = {"id": new_id(), "action_id": action_id, "event": name, "host": host, "start_time": utcnow()}
            event = Event(str(pending["id"]), pending=pending)
        else:
            row = InstanceActionEvent(action_id=action_id, event=name, host=host)
            with self.db.session() as s:
                s.add(row)
            event = Event(row.id)
        try:
            yield event
        except BaseException as error:
            self._end(event, "Error", "".join(traceback.format_exception(error)), failure_details(error))
            self.fail(action_id)
            raise
        if not event.done:
            self._end(event, "Success", None)

    def _end(self, event: Event, result: str, tb: str | None, details: str | None = None) -> None:
        """Record a step's end outside the step's own writes."""
        if event.pending is None:
            self._finish(str(event.id), result, tb, details)
            return
        with self.db.session() as s:
            # Actions outlive their server, but an archived one is gone: nothing to add to.
            if s.scalar(sa.select(InstanceAction.id).where(InstanceAction.id == event.pending["action_id"])):
                s.execute(sa.insert(InstanceActionEvent).values(
                    **event.pending, result=result, traceback=tb, details=details, finish_time=utcnow()))

    def _finish(self, event_id: str, result: str, tb: str | None, details: str | None = None) -> None:
        with self.db.session() as s:
            s.execute(_finish_statement(event_id, result, tb, details))

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
