"""Host aggregates: named groups of compute hosts with key/value metadata.

The ``availability_zone`` metadata key is what makes an aggregate a zone, as in Nova:
a host belongs to the zone of the aggregates it is in (``nova`` when none sets one).
The zone is stored on the host's ``compute_node`` row, which the scheduler's
availability-zone filter and ``os-availability-zone`` read; every change that can move
a host to another zone (membership, the metadata, deleting the aggregate) rewrites
that column in the same transaction, so the two never disagree.  A host cannot be in
two aggregates that name different zones (400, as Nova).
"""

from __future__ import annotations

import builtins
import datetime as dt
import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from pocketstack.common.db import Database, utcnow
from pocketstack.common.db.cas import changed_rows, run_in_transaction
from pocketstack.compute import errors
from pocketstack.compute.models import Aggregate, AggregateHost, AggregateMetadata, ComputeNode

ZONE_KEY = "availability_zone"
DEFAULT_ZONE = "nova"
MAX_ID = 2**31 - 1  # compute_aggregate.id is a 32-bit integer column


@dataclass
class AggregateView:
    id: int
    uuid: str
    name: str
    created_at: dt.datetime
    updated_at: dt.datetime | None
    hosts: list[str] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def availability_zone(self) -> str | None:
        return self.metadata.get(ZONE_KEY)


class Aggregates:
    def __init__(self, db: Database):
        self.db = db

    # -- reads -------------------------------------------------------------------------
    def list(self) -> list[AggregateView]:
        with self.db.session(readonly=True) as s:
            return self._views(s, list(s.scalars(sa.select(Aggregate).order_by(Aggregate.id))))

    def get(self, aggregate_id: int | str) -> AggregateView:
        with self.db.session(readonly=True) as s:
            return self._views(s, [self._row(s, aggregate_id)])[0]

    @staticmethod
    def _row(s: Session, aggregate_id: int | str) -> Aggregate:
        """The aggregate, or 404; an id no row can have (not an integer, or outside the
        32-bit column) is not found without asking the database, which would overflow."""
        try:
            number = int(aggregate_id)
        except (TypeError, ValueError):
            number = 0
        row = s.get(Aggregate, number) if 0 < number <= MAX_ID else None
        if row is None:
            raise errors.AggregateNotFound(aggregate_id=aggregate_id)
        return row

    @staticmethod
    def _views(s: Session, rows: builtins.list[Aggregate]) -> builtins.list[AggregateView]:
        views = {r.id: AggregateView(r.id, r.uuid, r.name, r.created_at, r.updated_at) for r in rows}
        if not views:
            return []
        for agg_id, host in s.execute(sa.select(AggregateHost.aggregate_id, AggregateHost.host)
                                      .where(AggregateHost.aggregate_id.in_(views))
                                      .order_by(AggregateHost.host)):
            views[agg_id].hosts.append(host)
        for agg_id, key, value in s.execute(sa.select(AggregateMetadata.aggregate_id, AggregateMetadata.key,
                                                      AggregateMetadata.value)
                                            .where(AggregateMetadata.aggregate_id.in_(views))):
            views[agg_id].metadata[key] = value
        return list(views.values())

    # -- writes ------------------------------------------------------------------------
    def create(self, name: str, zone: str | None) -> AggregateView:

        def work(s: Session) -> int:
            row = Aggregate(uuid=str(uuid.uuid4()), name=name, created_at=utcnow())
            s.add(row)
            s.flush()
            if zone:
                s.add(AggregateMetadata(aggregate_id=row.id, key=ZONE_KEY, value=zone))
            return row.id
        return self.get(self._write(work, name))

    def update(self, aggregate_id: int | str, name: str | None, zone: str | None, set_zone: bool) -> AggregateView:

        def work(s: Session) -> int:
            row = self._row(s, aggregate_id)
            if name is not None:
                row.name = name
            row.updated_at = utcnow()
            if set_zone:
                self._apply_metadata(s, row.id, {ZONE_KEY: zone})
            return row.id
        return self.get(self._write(work, name))

    def delete(self, aggregate_id: int | str) -> None:
        def work(s: Session) -> None:
            row = self._row(s, aggregate_id)
            if s.scalar(sa.select(AggregateHost.host).where(AggregateHost.aggregate_id == row.id).limit(1)):
                raise errors.AggregateNotEmpty(aggregate_id=row.id)
            s.delete(row)
        run_in_transaction(self.db, work)

    def add_host(self, aggregate_id: int | str, host: str) -> AggregateView:
        def work(s: Session) -> int:
            row = self._row(s, aggregate_id)
            if s.scalar(sa.select(ComputeNode.id).where(ComputeNode.host == host)) is None:
                raise errors.ComputeHostNotFound(host=host)
            if s.get(AggregateHost, (row.id, host)) is not None:
                raise errors.AggregateHostExists(aggregate_id=row.id, host=host)
            zone = s.get(AggregateMetadata, (row.id, ZONE_KEY))
            if zone is not None:
                others = _zones_of(s, host, exclude=row.id) - {zone.value}
                if others:
                    raise errors.AggregateAddHostZoneConflict(aggregate_id=row.id, zones=sorted(others))
            s.add(AggregateHost(aggregate_id=row.id, host=host))
            s.flush()
            _sync_zones(s, [host])
            return row.id
        try:
            return self.get(run_in_transaction(self.db, work))
        except sa_exc.IntegrityError:  # added by a concurrent request
            raise errors.AggregateHostExists(aggregate_id=aggregate_id, host=host) from None

    def remove_host(self, aggregate_id: int | str, host: str) -> AggregateView:
        def work(s: Session) -> int:
            row = self._row(s, aggregate_id)
            removed = changed_rows(s, sa.delete(AggregateHost).where(AggregateHost.aggregate_id == row.id,
                                                                     AggregateHost.host == host))
            if not removed:
                raise errors.AggregateHostNotFound(aggregate_id=row.id, host=host)
            _sync_zones(s, [host])
            return row.id
        return self.get(run_in_transaction(self.db, work))

    def set_metadata(self, aggregate_id: int | str, metadata: dict[str, str | None]) -> AggregateView:
        """Nova's ``set_metadata``: merge, a ``None`` value deletes its key."""
        def work(s: Session) -> int:
            row = self._row(s, aggregate_id)
            row.updated_at = utcnow()
            self._apply_metadata(s, row.id, metadata)
            return row.id
        return self.get(run_in_transaction(self.db, work))

    def _apply_metadata(self, s: Session, agg_id: int, metadata: dict[str, str | None]) -> None:
        for key, value in metadata.items():
            s.execute(sa.delete(AggregateMetadata).where(AggregateMetadata.aggregate_id == agg_id,
                                                         AggregateMetadata.key == key))
            if value is not None:
                s.add(AggregateMetadata(aggregate_id=agg_id, key=key, value=str(value)))
        if ZONE_KEY not in metadata:
            return
        hosts = list(s.scalars(sa.select(AggregateHost.host).where(AggregateHost.aggregate_id == agg_id)))
        zone = metadata[ZONE_KEY]
        if zone is not None:
            for host in hosts:
                others = _zones_of(s, host, exclude=agg_id) - {zone}
                if others:
                    raise errors.AggregateUpdateZoneConflict(aggregate_id=agg_id, zones=sorted(others))
        s.flush()
        _sync_zones(s, hosts)

    def _write(self, work, name: str | None):
        try:
            return run_in_transaction(self.db, work)
        except sa_exc.IntegrityError:
            raise errors.AggregateNameExists(name=name) from None


def _zones_of(s: Session, host: str, exclude: int | None = None) -> set[str]:
    """The zones the aggregates of ``host`` (but ``exclude``) name."""
    stmt = (sa.select(AggregateMetadata.value)
            .join(AggregateHost, AggregateHost.aggregate_id == AggregateMetadata.aggregate_id)
            .where(AggregateHost.host == host, AggregateMetadata.key == ZONE_KEY))
    if exclude is not None:
        stmt = stmt.where(AggregateHost.aggregate_id != exclude)
    return set(s.scalars(stmt))


def _sync_zones(s: Session, hosts: list[str]) -> None:
    """Write each host's zone (its aggregates' zone, else the default) onto its node row."""
    for host in hosts:
        zones = sorted(_zones_of(s, host))
        s.execute(sa.update(ComputeNode).where(ComputeNode.host == host)
                  .values(availability_zone=zones[0] if zones else DEFAULT_ZONE))
