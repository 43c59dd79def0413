"""Compute quotas: limits per project, usage counted in rows changed only by guarded updates.

A reservation is one statement per resource::

    UPDATE compute_quota_usage SET in_use = in_use + :n
     WHERE scope = :scope AND resource = :r AND in_use + :n <= :limit

It is a compare-and-swap whose comparison is evaluated by the database on the current
row version: two racing requests both see their condition re-checked against the
committed value, so a limit can never be exceeded, and unlike read-then-CAS nobody has
to retry just because somebody else got there first.  Reservations of several resources
happen in the caller's transaction (sorted by resource name so concurrent writers touch
rows in the same order), so a request takes all of its resources or none.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from pocketstack.common.db import Database
from pocketstack.common.db.cas import ConcurrentUpdate, changed_rows, run_in_transaction
from pocketstack.compute.errors import OverQuota
from pocketstack.compute.models import QuotaLimit, QuotaUsage

# Nova's defaults.
DEFAULTS: dict[str, int] = {
    "instances": 10,
    "cores": 20,
    "ram": 51200,
    "metadata_items": 128,
    "injected_files": 5,
    "injected_file_content_bytes": 10240,
    "injected_file_path_bytes": 255,
    "key_pairs": 100,
    "server_groups": 10,
    "server_group_members": 10,
}
# Resources counted in usage rows, and the scope they are counted in.
COUNTED_PER_PROJECT = ("instances", "cores", "ram", "server_groups")
UNLIMITED = -1


def user_scope(user_id: str) -> str:
    return f"user:{user_id}"


def class_scope(name: str) -> str:
    """Quota classes (``os-quota-class-sets``) keep their limits in ``compute_quota_limit``
    under this key; the ``default`` class is every project's default, as in Nova."""
    return f"class:{name}"


DEFAULT_CLASS = class_scope("default")


def group_scope(group_id: str) -> str:
    return f"group:{group_id}"


class Quotas:
    def __init__(self, db: Database):
        self.db = db

    # -- limits ----------------------------------------------------------------------
    def limits(self, project_id: str | None, session: Session | None = None) -> dict[str, int]:
        """A project's limits: its own, else the ``default`` quota class's, else Nova's
        (a token scoped to no project, ``None``, has the defaults)."""
        if session is None:
            with self.db.session(readonly=True) as s:
                return self.limits(project_id, s)
        rows = list(session.scalars(sa.select(QuotaLimit)
                                    .where(QuotaLimit.project_id.in_([DEFAULT_CLASS, project_id]))))
        limits = dict(DEFAULTS)
        for owner in (DEFAULT_CLASS, project_id):
            limits.update({r.resource: r.hard_limit for r in rows if r.project_id == owner})
        return limits

    def set_limits(self, project_id: str, values: dict[str, int]) -> dict[str, int]:
        """Upsert the limits; two admins racing to create the same row make the loser
        re-run (last write wins, as for any PUT)."""
        def work(s: Session) -> None:
            for resource, limit in values.items():
                row = s.get(QuotaLimit, (project_id, resource))
                if row is None:
                    s.add(QuotaLimit(project_id=project_id, resource=resource, hard_limit=limit))
                else:
                    row.hard_limit = limit
            try:
                s.flush()
            except sa_exc.IntegrityError:
                raise ConcurrentUpdate("quota limit created concurrently") from None
        run_in_transaction(self.db, work)
        return self.limits(project_id)

    def reset_limits(self, project_id: str) -> None:
        with self.db.session() as s:
            s.execute(sa.delete(QuotaLimit).where(QuotaLimit.project_id == project_id))

    def usage(self, scope: str, session: Session | None = None) -> dict[str, int]:
        if session is None:
            with self.db.session(readonly=True) as s:
                return self.usage(scope, s)
        rows = session.scalars(sa.select(QuotaUsage).where(QuotaUsage.scope == scope))
        return {r.resource: r.in_use for r in rows}

    # -- counting --------------------------------------------------------------------
    def ensure_rows(self, scope: str, resources) -> None:
        """Create the missing usage rows, all in one transaction re-run on conflict: two
        first requests of a project racing to insert the same row lose on the primary key
        (IntegrityError) or, on Galera, at COMMIT (certification failure); either way
        the re-run finds the row there and has nothing left to do."""
        existing = self.usage(scope)
        missing = [resource for resource in resources if resource not in existing]
        if not missing:
            return

        def work(s: Session) -> None:
            present = set(s.scalars(sa.select(QuotaUsage.resource).where(
                QuotaUsage.scope == scope, QuotaUsage.resource.in_(missing))))
            s.add_all(QuotaUsage(scope=scope, resource=resource, in_use=0)
                      for resource in missing if resource not in present)
            try:
                s.flush()
            except sa_exc.IntegrityError:
                raise ConcurrentUpdate(f"usage rows of {scope} created concurrently") from None
        run_in_transaction(self.db, work)

    def reserve(self, session: Session, scope: str, deltas: dict[str, int], limits: dict[str, int]) -> None:
        """Add ``deltas`` to ``scope``'s usage inside ``session``; :class:`OverQuota` (and
        nothing changed, once the caller's transaction rolls back) when one does not fit.
        Call :meth:`ensure_rows` first."""
        for resource in sorted(deltas):
            delta = deltas[resource]
            if delta <= 0:
                continue
            limit = limits.get(resource, UNLIMITED)
            stmt = sa.update(QuotaUsage).where(QuotaUsage.scope == scope, QuotaUsage.resource == resource)
            if limit != UNLIMITED:
                stmt = stmt.where(QuotaUsage.in_use + delta <= limit)
            if changed_rows(session, stmt.values(in_use=QuotaUsage.in_use + delta),
                            execution_options={"synchronize_session": False}) != 1:
                used = session.scalar(sa.select(QuotaUsage.in_use).where(QuotaUsage.scope == scope,
                                                                          QuotaUsage.resource == resource)) or 0
                raise OverQuota(resource=resource, requested=delta, used=used, limit=limit)

    def release(self, session: Session, scope: str, deltas: dict[str, int]) -> None:
        """Give back what :meth:`reserve` took (never below zero)."""
        for resource in sorted(deltas):
            delta = deltas[resource]
            if delta <= 0:
                continue
            session.execute(sa.update(QuotaUsage).where(QuotaUsage.scope == scope, QuotaUsage.resource == resource)
                            .values(in_use=sa.case((QuotaUsage.in_use > delta, QuotaUsage.in_use - delta), else_=0)),
                            execution_options={"synchronize_session": False})

    def fit_count(self, project_id: str, per_instance: dict[str, int], wanted: int, minimum: int) -> int:
        """How many of ``wanted`` instances fit right now (at least ``minimum``, else 403) —
        Nova shrinks ``max_count`` to what the quota allows.  Only advisory: the real
        reservation re-checks atomically."""
        limits, used = self.limits(project_id), self.usage(project_id)
        fits = wanted
        for resource, amount in per_instance.items():
            limit = limits.get(resource, UNLIMITED)
            if limit == UNLIMITED or amount <= 0:
                continue
            room = max(0, (limit - used.get(resource, 0)) // amount)
            if room < minimum:
                raise OverQuota(resource=resource, requested=amount * minimum, used=used.get(resource, 0), limit=limit)
            fits = min(fits, room)
        return max(fits, minimum)

    def check_limit(self, project_id: str | None, resource: str, requested: int) -> None:
        """For uncounted limits (metadata items, injected files): 403 if ``requested`` is over."""
        limit = self.limits(project_id).get(resource, UNLIMITED)
        if limit != UNLIMITED and requested > limit:
            raise OverQuota(resource=resource, requested=requested, used=0, limit=limit)
