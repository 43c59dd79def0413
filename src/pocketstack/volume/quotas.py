"""Block-storage quotas: limits per project and usage counted by compare-and-swap.

Usage rows are changed only by ``UPDATE ... SET in_use = new WHERE in_use = old`` in the
same transaction that creates or deletes the resource, so concurrent creates can never
together exceed a limit and a crash can never leave usage and reality apart.  Per-type
resources (``volumes_<type>``, ``gigabytes_<type>``, ``snapshots_<type>``) are counted
alongside the totals, as in Cinder.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from pocketstack.common.api.errors import ApiError
from pocketstack.common.db.cas import cas_update
from pocketstack.volume import models as m

DEFAULTS = {"volumes": 10, "gigabytes": 1000, "snapshots": 10, "backups": 10, "backup_gigabytes": 1000,
            "per_volume_gigabytes": -1, "groups": 10}
PER_TYPE = ("volumes", "gigabytes", "snapshots")


class OverQuota(ApiError):
    status = 413


class Quotas:
    def __init__(self, db):
        self.db = db

    def limits(self, project_id: str, type_names: list[str]) -> dict[str, int]:
        with self.db.session(readonly=True) as s:
            return self._limits(s, project_id, type_names)

    @staticmethod
    def _limits(s: Session, project_id: str, type_names: list[str]) -> dict[str, int]:
        limits = dict(DEFAULTS)
        limits.update({f"{r}_{t}": -1 for t in type_names for r in PER_TYPE})
        for row in s.scalars(sa.select(m.QuotaLimit).where(m.QuotaLimit.project_id == project_id)):
            limits[row.resource] = row.hard_limit
        return limits

    def usage(self, project_id: str) -> dict[str, int]:
        with self.db.session(readonly=True) as s:
            return {row.resource: row.in_use for row in s.scalars(
                sa.select(m.QuotaUsage).where(m.QuotaUsage.project_id == project_id))}

    def set_limits(self, project_id: str, values: dict[str, int]) -> None:
        with self.db.session() as s:
            for resource, limit in values.items():
                row = s.get(m.QuotaLimit, (project_id, resource))
                if row is None:
                    s.add(m.QuotaLimit(project_id=project_id, resource=resource, hard_limit=limit))
                else:
                    row.hard_limit = limit

    def reset_limits(self, project_id: str) -> None:
        with self.db.session() as s:
            s.execute(sa.delete(m.QuotaLimit).where(m.QuotaLimit.project_id == project_id))

    def check_volume_size(self, project_id: str, size: int) -> None:
        """``per_volume_gigabytes``: a cap on one volume's size, not a counted resource."""
        limit = self.limits(project_id, [])["per_volume_gigabytes"]
        if 0 <= limit < size:
            raise OverQuota(f"VolumeSizeExceedsLimit: Requested volume size {size}G is larger than maximum "
                            f"allowed limit {limit}G.")

    def prepare(self, project_id: str, type_name: str | None, *resources: str) -> None:
        """Make sure the usage rows exist before a transaction CASes them.  Called outside
        that transaction: each row is inserted in its own, so a duplicate-key race between
        two creators never aborts the caller's unit of work."""
        names = list(resources) + [f"{r}_{type_name}" for r in resources if type_name and r in PER_TYPE]
        for resource in names:
            try:
                with self.db.session() as s:
                    if s.get(m.QuotaUsage, (project_id, resource)) is None:
                        s.add(m.QuotaUsage(project_id=project_id, resource=resource, in_use=0))
            except sa_exc.IntegrityError:
                pass

    def reserve(self, s: Session, project_id: str, type_name: str | None, **deltas: int) -> None:
        """Add ``deltas`` to the project's usage (negative to release), refusing with 413
        when a positive delta would exceed a limit.  Runs inside the caller's transaction;
        :meth:`prepare` must have created the rows (a missing row is skipped on release)."""
        changes = {k: v for k, v in deltas.items() if v}
        if type_name:
            changes.update({f"{k}_{type_name}": v for k, v in deltas.items() if v and k in PER_TYPE})
        if not changes:
            return
        limits = self._limits(s, project_id, [type_name] if type_name else [])
        for resource, delta in sorted(changes.items()):
            row = s.get(m.QuotaUsage, (project_id, resource))
            if row is None:
                if delta > 0:
                    raise RuntimeError(f"quota usage row {resource} of {project_id} was not prepared")
                continue
            new = max(0, row.in_use + delta)
            limit = limits.get(resource, -1)
            if delta > 0 and limit >= 0 and new > limit:
                raise OverQuota(f"VolumeSizeExceedsAvailableQuota: Requested {resource} of {delta} exceeds "
                                f"the quota: {row.in_use} of {limit} in use."
                                if resource.startswith("gigabytes") else
                                f"Maximum number of {resource} allowed ({limit}) exceeded")
            cas_update(s, m.QuotaUsage, where={"project_id": project_id, "resource": resource,
                                               "in_use": row.in_use}, values={"in_use": new})
