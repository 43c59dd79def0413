"""Block-storage quotas: limits per project and usage counted by compare-and-swap.

Usage rows are changed only by ``UPDATE ... SET in_use = new WHERE in_use = old`` in the
same transaction that creates or deletes the resource, so concurrent creates can never
together exceed a limit and a crash can never leave usage and reality apart.  Per-type
resources (``volumes_<type>``, ``gigabytes_<type>``, ``snapshots_<type>``) are counted
alongside the totals, as in Cinder.

A project's first use inserts its usage rows inside that same unit of work, so whatever
the database answers a race with — a duplicate key (the INSERT does nothing and the row
is read again), a deadlock victim on MariaDB, or a Galera certification failure at
COMMIT (both error 1213) — ``run_in_transaction`` re-runs the whole unit on fresh data.
"""

from __future__ import annotations

from typing import cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common.db.cas import ConcurrentUpdate, cas_update, run_in_transaction
from pocketstack.common.db.inserts import insert_if_free
from pocketstack.volume import errors
from pocketstack.volume import models as m

DEFAULTS = {"volumes": 10, "gigabytes": 1000, "snapshots": 10, "backups": 10, "backup_gigabytes": 1000,
            "per_volume_gigabytes": -1, "groups": 10}
PER_TYPE = ("volumes", "gigabytes", "snapshots")
# Cinder's DB_MAX_INT: the largest size, limit or usage its (and our) integer columns hold.
MAX_INT = 0x7FFFFFFF
USAGE = cast(sa.Table, m.QuotaUsage.__table__)
LIMIT = cast(sa.Table, m.QuotaLimit.__table__)
CLASS = cast(sa.Table, m.QuotaClass.__table__)
DEFAULT_CLASS = "default"


OverQuota = errors.OverQuota


class Quotas:
    def __init__(self, db):
        self.db = db

    def limits(self, project_id: str, type_names: list[str]) -> dict[str, int]:
        with self.db.session(readonly=True) as s:
            return self._limits(s, project_id, type_names)

    @staticmethod
    def _class_limits(s: Session, class_name: str, type_names: list[str]) -> dict[str, int]:
        """The built-in defaults, then the ``default`` class's, then ``class_name``'s."""
        limits = dict(DEFAULTS)
        limits.update({f"{r}_{t}": -1 for t in type_names for r in PER_TYPE})
        for name in dict.fromkeys((DEFAULT_CLASS, class_name)):
            limits.update(s.execute(sa.select(CLASS.c.resource, CLASS.c.hard_limit).where(
                CLASS.c.class_name == name)).tuples().all())
        return limits

    @classmethod
    def _limits(cls, s: Session, project_id: str, type_names: list[str]) -> dict[str, int]:
        limits = cls._class_limits(s, DEFAULT_CLASS, type_names)
        for row in s.scalars(sa.select(m.QuotaLimit).where(m.QuotaLimit.project_id == project_id)):
            limits[row.resource] = row.hard_limit
        return limits

    def class_limits(self, class_name: str, type_names: list[str]) -> dict[str, int]:
        with self.db.session(readonly=True) as s:
            return self._class_limits(s, class_name, type_names)

    def set_class_limits(self, class_name: str, values: dict[str, int]) -> None:
        """Upsert a quota class's limits (last write wins, as for a project's)."""
        self._upsert(CLASS, {"class_name": class_name}, values)

    def usage(self, project_id: str) -> dict[str, int]:
        with self.db.session(readonly=True) as s:
            return {row.resource: row.in_use for row in s.scalars(
                sa.select(m.QuotaUsage).where(m.QuotaUsage.project_id == project_id))}

    def set_limits(self, project_id: str, values: dict[str, int]) -> None:
        """Upsert the limits; an admin racing another to create the same row updates it
        instead (last write wins, as for any PUT)."""
        self._upsert(LIMIT, {"project_id": project_id}, values)

    def _upsert(self, table: sa.Table, owner: dict[str, str], values: dict[str, int]) -> None:
        def work(s: Session) -> None:
            for resource, limit in values.items():
                key = {**owner, "resource": resource}
                if not insert_if_free(s, table, {**key, "hard_limit": limit}):
                    s.execute(sa.update(table).where(*(table.c[k] == v for k, v in key.items()))
                              .values(hard_limit=limit))
        run_in_transaction(self.db, work)

    def reset_limits(self, project_id: str) -> None:
        with self.db.session() as s:
            s.execute(sa.delete(m.QuotaLimit).where(m.QuotaLimit.project_id == project_id))

    def check_volume_size(self, project_id: str, size: int) -> None:
        """``per_volume_gigabytes``: a cap on one volume's size, not a counted resource."""
        limit = self.limits(project_id, [])["per_volume_gigabytes"]
        if 0 <= limit < size:
            raise errors.VolumeSizeExceedsLimit(size=size, limit=limit)

    def reserve(self, s: Session, project_id: str, type_name: str | None, **deltas: int) -> None:
        """Add ``deltas`` to the project's usage (negative to release), refusing with 413
        when a positive delta would exceed a limit (or what the usage column can hold).
        Runs inside the caller's unit of work, which must be run by ``run_in_transaction``:
        a missing row is inserted here (and skipped on release)."""
        changes = {k: v for k, v in deltas.items() if v}
        if type_name:
            changes.update({f"{k}_{type_name}": v for k, v in deltas.items() if v and k in PER_TYPE})
        if not changes:
            return
        limits = self._limits(s, project_id, [type_name] if type_name else [])
        for resource, delta in sorted(changes.items()):
            in_use = _in_use(s, project_id, resource, create=delta > 0)
            if in_use is None:
                continue
            new = max(0, in_use + delta)
            limit = limits.get(resource, -1)
            if delta > 0 and (0 <= limit < new or new > MAX_INT):
                raise _over_quota(resource, delta, in_use, limit if 0 <= limit < new else MAX_INT)
            cas_update(s, m.QuotaUsage, where={"project_id": project_id, "resource": resource, "in_use": in_use},
                       values={"in_use": new})

    def release_extension(self, s: Session, volume: m.Volume) -> None:
        """Give back the gigabytes an extend reserved, when ``volume`` (read in ``s``) leaves
        ``extending`` without growing: the extend failed, or an admin reset or
        force-deleted the volume first.  The caller moves the volume out of ``extending``
        by CAS in the same transaction, so this happens once."""
        new_size = (volume.task_args or {}).get("new_size")
        if volume.status != "extending" or not isinstance(new_size, int) or new_size <= volume.size:
            return
        vtype = s.get(m.VolumeType, volume.volume_type_id) if volume.volume_type_id else None
        self.reserve(s, volume.project_id, vtype.name if vtype else None, gigabytes=volume.size - new_size)


def _in_use(s: Session, project_id: str, resource: str, create: bool) -> int | None:
    """The row's current ``in_use``, read fresh (never a cached object, so a unit of work
    may change one row twice); with ``create``, the row is inserted at 0 when missing —
    by us, or by a racing creator whose row we then read."""
    def read() -> int | None:
        return s.execute(sa.select(USAGE.c.in_use).where(USAGE.c.project_id == project_id,
                                                         USAGE.c.resource == resource)).scalar_one_or_none()
    in_use = read()
    if in_use is None and create:
        insert_if_free(s, USAGE, {"project_id": project_id, "resource": resource, "in_use": 0})
        in_use = read()
        if in_use is None:
            raise ConcurrentUpdate(f"usage row {resource} of {project_id} vanished; re-running")
    return in_use


def _over_quota(resource: str, delta: int, in_use: int, limit: int) -> OverQuota:
    if resource.startswith("gigabytes"):
        return errors.VolumeSizeExceedsAvailableQuota(resource=resource, requested=delta, in_use=in_use, limit=limit)
    return errors.QuotaExceeded(resource=resource, limit=limit)
