"""Failover segments and their hosts, as Masakari keeps them (``failover_segments``,
``hosts``): the record, with Masakari's rules.

A segment's name is unique, and so is a host's over all segments (a compute host is in
one segment at most).  While a failure of one of a segment's hosts is being recovered
(its notification ``new`` or ``running``), the segment and its hosts cannot be changed
or deleted (409, Masakari's ``FailoverSegmentInUse`` / ``HostInUse``): the recovery
reads them.  Deleting a segment deletes its hosts, as Masakari's.

That a host name is a compute host's is checked by the caller
(:class:`~pocketstack.ha.manager.InstanceHA`), which also keeps compute's side of
``reserved``: a reserved host's compute service disabled.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from pocketstack.common.db import Database, utcnow
from pocketstack.common.db.cas import changed_rows
from pocketstack.common.db.lookup import find_or_raise
from pocketstack.common.pagination import Paging, apply_paging
from pocketstack.ha import errors
from pocketstack.ha.models import Notification, Segment, SegmentHost
from pocketstack.ha.notifications import OPEN_STATUSES

RECOVERY_METHODS = ("auto", "reserved_host", "auto_priority", "rh_priority")
SEGMENT_FIELDS = ("name", "description", "recovery_method", "service_type", "enabled")
HOST_FIELDS = ("name", "type", "control_attributes", "reserved", "on_maintenance")


@dataclass(frozen=True)
class Placement:
    """A compute host's place in the segments: its host record and its segment."""

    host: SegmentHost
    segment: Segment


class Segments:
    def __init__(self, db: Database):
        self.db = db

    # -- segments --------------------------------------------------------------------------
    def create_segment(self, values: Mapping[str, Any]) -> Segment:
        row = Segment(uuid=str(uuid.uuid4()), name=values["name"], description=values.get("description"),
                      recovery_method=values["recovery_method"], service_type=values["service_type"],
                      enabled=values.get("enabled", True))
        try:
            with self.db.session() as s:
                s.add(row)
        except sa_exc.IntegrityError:
            raise errors.SegmentExists(name=values["name"]) from None
        return self.segment(row.uuid)

    def segment(self, segment_uuid: str) -> Segment:
        with self.db.session(readonly=True) as s:
            row: Segment = find_or_raise(s, Segment.uuid, segment_uuid,
                                         lambda: errors.SegmentNotFound(id=segment_uuid))
        return row

    def segments(self, filters: Mapping[str, Any], paging: Paging) -> builtins.list[Segment]:
        stmt = sa.select(Segment)
        for name, value in filters.items():
            stmt = stmt.where(getattr(Segment, name) == value)
        marker = self.segment(paging.marker) if paging.marker else None
        with self.db.session(readonly=True) as s:
            return builtins.list(s.scalars(apply_paging(stmt, Segment, paging, marker)))

    def update_segment(self, segment_uuid: str, values: Mapping[str, Any]) -> Segment:
        self._unused(self.segment(segment_uuid), "updated")
        try:
            with self.db.session() as s:
                s.execute(sa.update(Segment).where(Segment.uuid == segment_uuid)
                          .values(updated_at=utcnow(), **values))
        except sa_exc.IntegrityError:
            raise errors.SegmentExists(name=values.get("name")) from None
        return self.segment(segment_uuid)

    def delete_segment(self, segment_uuid: str) -> builtins.list[SegmentHost]:
        """Delete the segment and its hosts; the hosts it had."""
        self._unused(self.segment(segment_uuid), "deleted")
        hosts = self.hosts(segment_uuid)
        with self.db.session() as s:
            s.execute(sa.delete(SegmentHost).where(SegmentHost.failover_segment_id == segment_uuid))
            s.execute(sa.delete(Segment).where(Segment.uuid == segment_uuid))
        return hosts

    def in_use(self, segment_uuid: str) -> bool:
        """Whether a failure of one of the segment's hosts is being recovered."""
        names = sa.select(SegmentHost.name).where(SegmentHost.failover_segment_id == segment_uuid)
        with self.db.session(readonly=True) as s:
            return s.scalar(sa.select(Notification.id).where(Notification.hostname.in_(names),
                                                             Notification.status.in_(OPEN_STATUSES)).limit(1)
                            ) is not None

    def _unused(self, segment: Segment, verb: str, host: SegmentHost | None = None) -> None:
        if self.in_use(segment.uuid):
            if host is not None:
                raise errors.HostInUse(uuid=host.uuid, verb=verb)
            raise errors.SegmentInUse(uuid=segment.uuid, verb=verb)

    # -- hosts of a segment ----------------------------------------------------------------
    def create_host(self, segment_uuid: str, values: Mapping[str, Any]) -> SegmentHost:
        self.segment(segment_uuid)
        row = SegmentHost(uuid=str(uuid.uuid4()), name=values["name"], type=values["type"],
                          control_attributes=values["control_attributes"],
                          reserved=values.get("reserved", False), on_maintenance=values.get("on_maintenance", False),
                          failover_segment_id=segment_uuid)
        try:
            with self.db.session() as s:
                s.add(row)
        except sa_exc.IntegrityError:
            raise errors.HostExists(name=values["name"]) from None
        return self.host(segment_uuid, row.uuid)

    def host(self, segment_uuid: str, host_uuid: str) -> SegmentHost:
        self.segment(segment_uuid)
        with self.db.session(readonly=True) as s:
            row = s.scalar(sa.select(SegmentHost).where(SegmentHost.uuid == host_uuid,
                                                        SegmentHost.failover_segment_id == segment_uuid))
        if row is None:
            raise errors.HostNotFound(id=host_uuid)
        return row

    def hosts(self, segment_uuid: str, filters: Mapping[str, Any] | None = None,
              paging: Paging | None = None) -> builtins.list[SegmentHost]:
        """The segment's hosts (by name when not paged)."""
        stmt = sa.select(SegmentHost).where(SegmentHost.failover_segment_id == segment_uuid)
        for name, value in (filters or {}).items():
            stmt = stmt.where(getattr(SegmentHost, name) == value)
        if paging is None:
            stmt = stmt.order_by(SegmentHost.name)
        else:
            marker = self.host(segment_uuid, paging.marker) if paging.marker else None
            stmt = apply_paging(stmt, SegmentHost, paging, marker)
        with self.db.session(readonly=True) as s:
            return builtins.list(s.scalars(stmt))

    def update_host(self, segment_uuid: str, host_uuid: str, values: Mapping[str, Any]) -> SegmentHost:
        host = self.host(segment_uuid, host_uuid)
        self._unused(self.segment(segment_uuid), "updated", host)
        if "reserved" in values:
            values = {**values, "taken_by": None}
        try:
            with self.db.session() as s:
                s.execute(sa.update(SegmentHost).where(SegmentHost.id == host.id)
                          .values(updated_at=utcnow(), **values))
        except sa_exc.IntegrityError:
            raise errors.HostExists(name=values.get("name")) from None
        return self.host(segment_uuid, host_uuid)

    def delete_host(self, segment_uuid: str, host_uuid: str) -> SegmentHost:
        host = self.host(segment_uuid, host_uuid)
        self._unused(self.segment(segment_uuid), "deleted", host)
        with self.db.session() as s:
            s.execute(sa.delete(SegmentHost).where(SegmentHost.id == host.id))
        return host

    # -- what recovery and the monitor read ------------------------------------------------
    def placement(self, name: str) -> Placement | None:
        """The compute host ``name``'s place in the segments, None when it is in none."""
        with self.db.session(readonly=True) as s:
            found = s.execute(sa.select(SegmentHost, Segment).join(
                Segment, Segment.uuid == SegmentHost.failover_segment_id).where(SegmentHost.name == name)).first()
        return Placement(found[0], found[1]) if found is not None else None

    def on_maintenance(self) -> set[str]:
        """The names of the hosts on maintenance: neither watched nor evacuated to."""
        with self.db.session(readonly=True) as s:
            return set(s.scalars(sa.select(SegmentHost.name).where(SegmentHost.on_maintenance.is_(True))))

    def mark_failed(self, name: str) -> None:
        """A failed host is put on maintenance, and is no longer a reserved host
        (Masakari's host-failure handling): an operator takes it off maintenance once
        it is repaired."""
        with self.db.session() as s:
            s.execute(sa.update(SegmentHost).where(SegmentHost.name == name)
                      .values(on_maintenance=True, reserved=False, updated_at=utcnow()))

    def take_reserved(self, name: str, notification_uuid: str) -> bool:
        """Clear ``reserved`` of a reserved host taken for a notification's recovery;
        False when it was no longer reserved (taken by another recovery, or changed by an
        operator)."""
        with self.db.session() as s:
            return changed_rows(s, sa.update(SegmentHost).where(SegmentHost.name == name,
                                                                SegmentHost.reserved.is_(True))
                                .values(reserved=False, taken_by=notification_uuid, updated_at=utcnow())) == 1

    def taken_for(self, notification_uuid: str) -> builtins.list[str]:
        """The reserved hosts a notification's recovery took, by name."""
        with self.db.session(readonly=True) as s:
            return builtins.list(s.scalars(sa.select(SegmentHost.name).where(
                SegmentHost.taken_by == notification_uuid).order_by(SegmentHost.name)))
