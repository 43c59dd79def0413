"""Endpoint policies (OS-ENDPOINT-POLICY): which policy blob (``/v3/policies``) applies
to an endpoint.  A policy is associated with an endpoint, with a service, or with a
service in a region; each of those targets has at most one policy (associating another
replaces it).

Resolution is Keystone's (keystone/endpoint_policy/core.py):

- the endpoints of a policy: those associated directly, every endpoint of an
  associated service, and the endpoints of an associated service in the region or any
  region below it;
- the policy of an endpoint: its own association, else the one for its service in its
  region, then in each parent region up the tree, else the one for its service alone.

Deleting a policy, endpoint, service or region drops its associations (:func:`forget`).
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from pocketstack.common.db import Database
from pocketstack.identity import errors
from pocketstack.identity import models as m

PA = m.PolicyAssociation


def forget(s: Session, *, policy_ids: Iterable[str] = (), endpoint_ids: Iterable[str] = (),
           service_ids: Iterable[str] = (), region_ids: Iterable[str] = ()) -> None:
    """Drop the associations of deleted policies, endpoints, services or regions."""
    for column, ids in ((PA.policy_id, policy_ids), (PA.endpoint_id, endpoint_ids),
                        (PA.service_id, service_ids), (PA.region_id, region_ids)):
        wanted = [i for i in ids if i]
        if wanted:
            s.execute(sa.delete(PA).where(column.in_(wanted)))


def _key(endpoint_id: str | None, service_id: str | None, region_id: str | None) -> tuple[str, str, str]:
    return endpoint_id or "", service_id or "", region_id or ""


class EndpointPolicyManager:
    def __init__(self, db: Database):
        self.db = db

    def associate(self, policy_id: str, *, endpoint_id: str | None = None, service_id: str | None = None,
                  region_id: str | None = None) -> None:
        """Make ``policy_id`` the policy of the target (replacing any other)."""
        key = _key(endpoint_id, service_id, region_id)
        for _attempt in range(3):
            try:
                with self.db.session() as s:
                    row = s.get(PA, key)
                    if row is None:
                        s.add(PA(endpoint_id=key[0], service_id=key[1], region_id=key[2], policy_id=policy_id))
                    else:
                        row.policy_id = policy_id
                    s.flush()
                return
            except sa_exc.IntegrityError:  # a concurrent PUT made the row first: update it
                continue
        raise errors.DuplicateEntry(action="store policy_association", details="Duplicate entry.")

    def check(self, policy_id: str, *, endpoint_id: str | None = None, service_id: str | None = None,
              region_id: str | None = None) -> None:
        with self.db.session(readonly=True) as s:
            row = s.get(PA, _key(endpoint_id, service_id, region_id))
            if row is None or row.policy_id != policy_id:
                raise errors.PolicyAssociationNotFound()

    def dissociate(self, policy_id: str, *, endpoint_id: str | None = None, service_id: str | None = None,
                   region_id: str | None = None) -> None:
        """Drop the association if it is this policy's (Keystone answers 204 either way)."""
        endpoint, service, region = _key(endpoint_id, service_id, region_id)
        with self.db.session() as s:
            s.execute(sa.delete(PA).where(PA.policy_id == policy_id, PA.endpoint_id == endpoint,
                                          PA.service_id == service, PA.region_id == region))

    def endpoints_for_policy(self, policy_id: str) -> list[m.Endpoint]:
        """The endpoints the policy applies to, each once, in association order
        (endpoints, then services, then services in regions), then by id."""
        with self.db.session(readonly=True) as s:
            rows = list(s.scalars(sa.select(PA).where(PA.policy_id == policy_id).order_by(
                PA.endpoint_id.desc(), PA.region_id, PA.service_id)))
            if not rows:
                return []
            endpoints = list(s.scalars(sa.select(m.Endpoint).order_by(m.Endpoint.id)))
            children: dict[str, list[str]] = {}
            for region_id, parent_id in s.execute(sa.select(m.Region.id, m.Region.parent_region_id)):
                if parent_id:
                    children.setdefault(parent_id, []).append(region_id)
        found: dict[str, m.Endpoint] = {}
        for row in rows:
            if row.endpoint_id:
                matched = [e for e in endpoints if e.id == row.endpoint_id]
            elif row.region_id:
                regions = _subtree(row.region_id, children)
                matched = [e for e in endpoints if e.service_id == row.service_id and e.region_id in regions]
            else:
                matched = [e for e in endpoints if e.service_id == row.service_id]
            for endpoint in matched:
                found.setdefault(endpoint.id, endpoint)
        return list(found.values())

    def policy_for_endpoint(self, endpoint: m.Endpoint) -> m.Policy:
        """The effective policy of an endpoint (404 when none applies)."""
        with self.db.session(readonly=True) as s:
            policy_id = self._lookup(s, _key(endpoint.id, None, None))
            region_id, seen = endpoint.region_id, set()
            while policy_id is None and region_id and region_id not in seen:
                seen.add(region_id)
                policy_id = self._lookup(s, _key(None, endpoint.service_id, region_id))
                region_id = s.scalar(sa.select(m.Region.parent_region_id).where(m.Region.id == region_id))
            if policy_id is None:
                policy_id = self._lookup(s, _key(None, endpoint.service_id, None))
            policy = s.get(m.Policy, policy_id) if policy_id is not None else None
            if policy is None:
                raise errors.NoPolicyForEndpoint(endpoint_id=endpoint.id)
            return policy

    @staticmethod
    def _lookup(s: Session, key: tuple[str, str, str]) -> str | None:
        row = s.get(PA, key)
        return row.policy_id if row is not None else None


def _subtree(region_id: str, children: dict[str, list[str]]) -> set[str]:
    """A region and every region below it (a cycle cannot loop: each is seen once)."""
    seen: set[str] = set()
    todo = [region_id]
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(children.get(current, ()))
    return seen
