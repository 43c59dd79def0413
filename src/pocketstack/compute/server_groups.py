"""Server groups: a policy (affinity, anti-affinity and their soft variants) the scheduler
applies to the group's members; groups and members both count against quotas."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common.db import Database
from pocketstack.common.db.cas import changed_rows, run_in_transaction
from pocketstack.compute import errors
from pocketstack.compute.models import ServerGroup, ServerGroupMember
from pocketstack.compute.quotas import Quotas

POLICIES = ("affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity")


class ServerGroups:
    def __init__(self, db: Database, quotas: Quotas):
        self.db = db
        self.quotas = quotas

    def create(self, project_id: str, user_id: str, name: str, policy: str, rules: dict) -> ServerGroup:
        if policy not in POLICIES:
            raise errors.InvalidGroupPolicy(policy=policy, choices=", ".join(POLICIES))
        if rules and policy != "anti-affinity":
            raise errors.GroupRulesNeedAntiAffinity()
        group = ServerGroup(id=str(uuid.uuid4()), name=name, project_id=project_id, user_id=user_id, policy=policy,
                            rules=rules or {})
        self.quotas.ensure_rows(project_id, ["server_groups"])
        limits = self.quotas.limits(project_id)

        def store(s: Session) -> None:
            self.quotas.reserve(s, project_id, {"server_groups": 1}, limits)
            s.add(group)
        run_in_transaction(self.db, store)  # the usage row is contended: re-run whole on conflict
        return group

    def get(self, group_id: str) -> ServerGroup:
        with self.db.session(readonly=True) as s:
            group = s.get(ServerGroup, group_id)
        if group is None:
            raise errors.InstanceGroupNotFound(group_id=group_id)
        return group

    def members(self, group_ids: list[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {g: [] for g in group_ids}
        if group_ids:
            with self.db.session(readonly=True) as s:
                for row in s.scalars(sa.select(ServerGroupMember).where(ServerGroupMember.group_id.in_(group_ids))):
                    found[row.group_id].append(row.instance_id)
        return found

    def of_instance(self, instance_id: str) -> list[str]:
        """The id of the group the server is a member of, as a list (empty or one id)."""
        with self.db.session(readonly=True) as s:
            return list(s.scalars(sa.select(ServerGroupMember.group_id)
                                  .where(ServerGroupMember.instance_id == instance_id)))

    def list(self, project_id: str | None) -> list[ServerGroup]:
        stmt = sa.select(ServerGroup).order_by(ServerGroup.created_at, ServerGroup.id)
        if project_id is not None:
            stmt = stmt.where(ServerGroup.project_id == project_id)
        with self.db.session(readonly=True) as s:
            return list(s.scalars(stmt))

    def delete(self, group_id: str) -> None:
        group = self.get(group_id)
        with self.db.session() as s:
            s.execute(sa.delete(ServerGroupMember).where(ServerGroupMember.group_id == group_id))
            gone = changed_rows(s, sa.delete(ServerGroup).where(ServerGroup.id == group_id))
            if gone:
                self.quotas.release(s, group.project_id, {"server_groups": 1})
