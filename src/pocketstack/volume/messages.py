"""User messages (Cinder's ``/messages``, 3.3+): why an operation the API had already
accepted with a 2xx failed later, in words fixed by Cinder's ``message_field`` tables.

A message is recorded in the transaction that moves its resource to the failed state, so
the status and its explanation appear together.  The text is built from the action and
the detail (``"schedule allocate volume:Could not find any available weighted backend."``);
an exception's own words never reach the user.  Messages live ``MESSAGE_TTL`` seconds
(Cinder's ``message_ttl``), then the volume service's periodic sweep deletes them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common.context import RequestContext
from pocketstack.common.db.base import utcnow
from pocketstack.common.pagination import Paging, apply_paging
from pocketstack.volume import errors
from pocketstack.volume import models as m
from pocketstack.volume.states import rowcount

MESSAGE_TTL = 2592000  # Cinder's default message_ttl: 30 days

# Cinder's message_field: (id, text) of the actions and details this service reports.
SCHEDULE_ALLOCATE_VOLUME = ("001", "schedule allocate volume")
CREATE_VOLUME_FROM_BACKEND = ("008", "create volume from backend storage")
BACKUP_CREATE = ("013", "create backup")
ACTIONS = dict((SCHEDULE_ALLOCATE_VOLUME, CREATE_VOLUME_FROM_BACKEND, BACKUP_CREATE))

UNKNOWN_ERROR = ("001", "An unknown error occurred.")
NO_BACKEND_AVAILABLE = ("003", "Could not find any available weighted backend.")
DRIVER_FAILED_CREATE = ("012", "Driver failed to create the volume.")
BACKUP_SCHEDULE_ERROR = ("024", "Backup failed to schedule. Service not found for creating backup.")
DETAILS = dict((UNKNOWN_ERROR, NO_BACKEND_AVAILABLE, DRIVER_FAILED_CREATE, BACKUP_SCHEDULE_ERROR))

VOLUME = "VOLUME"  # Cinder's message_field.Resource
VOLUME_BACKUP = "VOLUME_BACKUP"

# The filters Cinder's resource_filters.json allows on a message list (3.33+ rejects others).
FILTERS = ("resource_uuid", "resource_type", "event_id", "request_id", "message_level")
SORT_KEYS = ("created_at", "id", "event_id", "resource_type", "resource_uuid", "message_level", "request_id")


def user_message(message: m.Message) -> str:
    """``"<action>:<detail>"``, as Cinder's messages controller builds it."""
    action = ACTIONS.get(message.action_id or "", "unknown action")
    return f"{action}:{DETAILS.get(message.detail_id or '', UNKNOWN_ERROR[1])}"


def record(s: Session, project_id: str, request_id: str | None, resource_type: str, resource_uuid: str,
           action: tuple[str, str], detail: tuple[str, str], level: str = "ERROR") -> None:
    """Add a message in the caller's transaction (the one that records the failure)."""
    now = utcnow()
    s.add(m.Message(id=str(uuid.uuid4()), project_id=project_id, request_id=request_id or "-",
                    resource_type=resource_type, resource_uuid=resource_uuid,
                    event_id=f"VOLUME_{resource_type}_{action[0]}_{detail[0]}", action_id=action[0],
                    detail_id=detail[0], message_level=level, created_at=now,
                    expires_at=now + dt.timedelta(seconds=MESSAGE_TTL)))


class Messages:
    def __init__(self, db):
        self.db = db

    def get(self, context: RequestContext, message_id: str) -> m.Message:
        with self.db.session(readonly=True) as s:
            row = s.get(m.Message, message_id)
            if row is None or not (context.is_admin or row.project_id == context.project_id):
                raise errors.MessageNotFound(message_id=message_id)
            s.expunge(row)
            return row

    def list(self, context: RequestContext, filters: dict[str, Any], paging: Paging,
             offset: int = 0) -> list[m.Message]:
        """The caller's project's messages (every project's for an admin, as Cinder's
        ``project_only`` query for messages lets the admin see all)."""
        conditions = [] if context.is_admin else [m.Message.project_id == context.project_id]
        conditions += [getattr(m.Message, key) == value for key, value in filters.items()]
        with self.db.session(readonly=True) as s:
            marker = None
            if paging.marker:
                marker = s.get(m.Message, paging.marker)
                if marker is None or not (context.is_admin or marker.project_id == context.project_id):
                    raise errors.MarkerNotFound(marker=paging.marker)
            query = apply_paging(sa.select(m.Message).where(*conditions), m.Message, paging, marker)
            rows = list(s.scalars(query.offset(offset) if offset else query))
            s.expunge_all()
            return rows

    def delete(self, context: RequestContext, message_id: str) -> None:
        self.get(context, message_id)
        with self.db.session() as s:
            s.execute(sa.delete(m.Message).where(m.Message.id == message_id))


def reap(db) -> int:
    """Delete the expired messages (Cinder's ``cleanup_expired_messages``)."""
    with db.session() as s:
        return rowcount(s.execute(sa.delete(m.Message).where(m.Message.expires_at <= utcnow())))
