"""Per-project quotas whose usage stays exact under concurrency, without locks.

Usage is not a counter row (every create in a project would fight over it) nor a
``COUNT(*)`` before the INSERT (two creators both see room and both commit).  Each
resource instead claims a *slot*: a row ``(project_id, resource, slot)`` under a unique
constraint with ``0 <= slot < limit``, claimed in the same transaction as the resource
with :func:`ipam.claim` — the IPAM algorithm.  N racing creators can only ever
commit ``limit`` distinct slots; the rest get ``OverQuota`` at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common.db.cas import changed_rows
from pocketstack.network import errors, ipam
from pocketstack.network.models import Quota, QuotaSlot, RbacPolicy, table

if TYPE_CHECKING:
    from pocketstack.network.context import Work

# Neutron's default limits; a deployment sets its own (Settings ``network_quota_*``).
DEFAULTS: dict[str, int] = {
    "network": 100, "subnet": 100, "subnetpool": -1, "port": 500, "router": 10, "floatingip": 50,
    "security_group": 10, "security_group_rule": 100, "rbac_policy": 10,
}
# Slots for unlimited resources are drawn from a space wide enough never to fill.
_UNLIMITED_SLOTS = 2 ** 40


def defaults_from(settings) -> dict[str, int]:
    """The limits a project has until an admin sets its own: ``network_quota_<resource>``
    (Neutron's ``[quotas] quota_<resource>``); a value below -1 fails at start-up."""
    values = {resource: int(getattr(settings, f"network_quota_{resource}", limit))
              for resource, limit in DEFAULTS.items()}
    for resource, limit in values.items():
        if limit < -1:
            raise ValueError(f"setting 'network_quota_{resource}': {limit} is below -1 (unlimited)")
    return values


def limits(session: Session, project_id: str, defaults: dict[str, int]) -> dict[str, int]:
    result = dict(defaults)
    for resource, limit in session.execute(sa.select(Quota.resource, Quota.hard_limit)
                                           .where(Quota.project_id == project_id)):
        result[resource] = limit
    return result


def usage(session: Session, project_id: str) -> dict[str, int]:
    rows = session.execute(sa.select(QuotaSlot.resource, sa.func.count()).where(QuotaSlot.project_id == project_id)
                           .group_by(QuotaSlot.resource))
    used = dict.fromkeys(DEFAULTS, 0)
    used.update({resource: count for resource, count in rows})
    return used


def claim(w: Work, project_id: str, resource: str, resource_id: str) -> None:
    """Count one ``resource`` against ``project_id``; 409 ``OverQuota`` when at the limit."""
    session = w.s
    limit = limits(session, project_id, w.env.quota_defaults)[resource]
    if limit == 0:
        raise errors.OverQuota(overs=resource)
    scope = (QuotaSlot.project_id == project_id, QuotaSlot.resource == resource)

    def taken():
        return session.scalars(sa.select(QuotaSlot.slot).where(*scope))

    def row(slot: int) -> dict:
        return {"project_id": project_id, "resource": resource, "slot": slot, "resource_id": resource_id}

    if limit > 0:
        # A lowered limit may leave slots above it: the total still counts.
        in_use = session.scalar(sa.select(sa.func.count()).select_from(QuotaSlot).where(*scope)) or 0
        if in_use >= limit:
            raise errors.OverQuota(overs=resource)
    try:
        ipam.claim(session, table(QuotaSlot), [(0, (limit if limit > 0 else _UNLIMITED_SLOTS) - 1)], taken, row)
    except ipam.Exhausted:
        raise errors.OverQuota(overs=resource) from None


def claim_if_room(w: Work, project_id: str, resource: str, resource_id: str) -> None:
    """A claim for what the service makes on its own (a project's default security group
    and its rules): counted while there is room, never refused -- Neutron makes those
    whatever the quota."""
    try:
        claim(w, project_id, resource, resource_id)
    except errors.OverQuota:
        pass


def claim_rbac_policy(w: Work, project_id: str, policy_id: str, enforce: bool) -> None:
    """Count a new RBAC policy: one the API creates against the ``rbac_policy`` limit
    (409 ``OverQuota``), one an object's ``shared`` or ``router:external`` makes while
    there is room, never refused (Neutron counts those and refuses only API creates).

    A policy also goes with its object by foreign key (a QoS policy, a security
    group...), which may release no slot; so the project's slots of policies gone are
    forgotten first.  A slot of a policy being created concurrently is not committed,
    so not seen, and stays."""
    w.s.execute(sa.delete(QuotaSlot).where(
        QuotaSlot.project_id == project_id, QuotaSlot.resource == "rbac_policy",
        ~sa.exists().where(RbacPolicy.id == QuotaSlot.resource_id)), execution_options={"synchronize_session": False})
    (claim if enforce else claim_if_room)(w, project_id, "rbac_policy", policy_id)


def release(session: Session, resource_ids: list[str]) -> None:
    if resource_ids:
        session.execute(sa.delete(QuotaSlot).where(QuotaSlot.resource_id.in_(resource_ids)))


def set_limits(session: Session, project_id: str, values: dict[str, int]) -> None:
    """Store overrides; a concurrent first write of the same row is retried by the caller."""
    for resource, limit in values.items():
        updated = changed_rows(session, sa.update(Quota).where(Quota.project_id == project_id,
                                                               Quota.resource == resource).values(hard_limit=limit))
        if updated == 0:
            session.add(Quota(project_id=project_id, resource=resource, hard_limit=limit))
    session.flush()


def reset(session: Session, project_id: str) -> None:
    session.execute(sa.delete(Quota).where(Quota.project_id == project_id))
