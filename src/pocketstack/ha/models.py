"""Instance-HA tables: the notifications (Masakari's name for a failure and the response
to it), the per-server moves of a recovery (Masakari's ``vmoves``), and the failover
segments with their hosts (Masakari's ``failover_segments`` and ``hosts``: which compute
hosts take over from which, and which are held in reserve).

A notification's ``stage`` is the recovery's persisted state machine; every change of a
notification is a compare-and-swap on its ``generation`` (:mod:`.notifications`), so two
HA processes never both take the same step, and whoever leads next resumes at the stage
the last one reached.  ``open_key`` is set while a failure episode of a host is open
(``host:<name>``, ``process:<name>``): unique, so a host has at most one open failure of
each kind however many monitors look at it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from pocketstack.common.db.base import Base, JSONText, utcnow

UUID = sa.String(36)


class Notification(Base):
    __tablename__ = "ha_notification"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    notification_uuid: Mapped[str] = mapped_column(UUID, unique=True)
    type: Mapped[str] = mapped_column(sa.String(16))  # COMPUTE_HOST, PROCESS, VM
    source_host_uuid: Mapped[str] = mapped_column(UUID, index=True)
    hostname: Mapped[str] = mapped_column(sa.String(255))
    generated_time: Mapped[dt.datetime] = mapped_column(sa.DateTime)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONText, default=dict)
    status: Mapped[str] = mapped_column(sa.String(16), index=True)  # new running finished failed ignored
    stage: Mapped[str] = mapped_column(sa.String(16))  # see recovery.STAGES
    open_key: Mapped[str | None] = mapped_column(sa.String(300), unique=True, nullable=True)
    generation: Mapped[int] = mapped_column(sa.Integer, default=0)
    # The HA process (coordination member id) that took the recovery's last step: another
    # one going on from there records the takeover.
    actor: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    # Masakari's recovery_workflow_details: [{"name", "state", "progress", "progress_details"}]
    details: Mapped[list[dict[str, Any]]] = mapped_column(JSONText, default=list)
    # Where the evacuations go (:class:`~pocketstack.ha.failover.Plan` as a dict): the
    # failed host's segment, its recovery method, the phase it is in and the reserved
    # hosts taken; None for a host in no segment (evacuated anywhere, as before segments).
    plan: Mapped[dict[str, Any] | None] = mapped_column(JSONText, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime, nullable=True)


class VMove(Base):
    __tablename__ = "ha_vmove"
    __table_args__ = (sa.UniqueConstraint("notification_uuid", "instance_uuid"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(UUID, unique=True)
    notification_uuid: Mapped[str] = mapped_column(UUID, index=True)
    instance_uuid: Mapped[str] = mapped_column(UUID)
    source_host: Mapped[str] = mapped_column(sa.String(255))
    dest_host: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    type: Mapped[str] = mapped_column(sa.String(16), default="evacuation")
    status: Mapped[str] = mapped_column(sa.String(16))  # pending ongoing succeeded failed ignored
    message: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    start_time: Mapped[dt.datetime | None] = mapped_column(sa.DateTime, nullable=True)
    end_time: Mapped[dt.datetime | None] = mapped_column(sa.DateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime, nullable=True)


class Segment(Base):
    """A failover segment: compute hosts that take over from one another, and how."""

    __tablename__ = "ha_segment"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(UUID, unique=True)
    name: Mapped[str] = mapped_column(sa.String(255), unique=True)
    service_type: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    recovery_method: Mapped[str] = mapped_column(sa.String(16))  # auto reserved_host auto_priority rh_priority
    enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime, nullable=True)


class SegmentHost(Base):
    """A compute host in a segment.  ``name`` is unique over all segments, as Masakari's:
    a host belongs to one segment at most."""

    __tablename__ = "ha_host"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(UUID, unique=True)
    name: Mapped[str] = mapped_column(sa.String(255), unique=True)
    type: Mapped[str] = mapped_column(sa.String(255))
    control_attributes: Mapped[str] = mapped_column(sa.Text)
    reserved: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    on_maintenance: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    failover_segment_id: Mapped[str] = mapped_column(UUID, sa.ForeignKey("ha_segment.uuid"), index=True)
    # The notification whose recovery took this reserved host (not shown: pocketstack's
    # own), so that a leader resuming that recovery takes the same host again.
    taken_by: Mapped[str | None] = mapped_column(UUID, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime, nullable=True)
