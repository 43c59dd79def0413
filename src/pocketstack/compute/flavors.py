"""Flavors, their extra specs and the access lists of private flavors."""

from __future__ import annotations

import builtins
import re
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from pocketstack.common.db import Database
from pocketstack.common.db.cas import changed_rows
from pocketstack.compute import errors
from pocketstack.compute.models import Flavor, FlavorAccess, FlavorExtraSpec


def name_matches(pattern: str, name: str) -> bool:
    """``pattern`` found in ``name`` (SQL's REGEXP); a pattern that is no regular
    expression matches nothing."""
    try:
        return re.search(pattern, name) is not None
    except re.error:
        return False


class Flavors:
    def __init__(self, db: Database):
        self.db = db

    def create(self, *, name: str, vcpus: int, ram: int, disk: int, flavor_id: str | None = None,
               ephemeral: int = 0, swap: int = 0, rxtx_factor: float = 1.0, is_public: bool = True,
               description: str | None = None) -> Flavor:
        if not flavor_id or flavor_id == "auto":
            flavor_id = str(uuid.uuid4())
        with self.db.session(readonly=True) as s:
            if s.scalar(sa.select(Flavor.id).where(Flavor.name == name)):
                raise errors.FlavorNameExists(name=name)
            if s.get(Flavor, flavor_id):
                raise errors.FlavorIdExists(flavor_id=flavor_id)
        flavor = Flavor(id=flavor_id, name=name, vcpus=vcpus, memory_mb=ram, root_gb=disk, ephemeral_gb=ephemeral,
                        swap=swap, rxtx_factor=rxtx_factor, is_public=is_public, description=description)
        try:
            with self.db.session() as s:
                s.add(flavor)
        except sa_exc.IntegrityError:
            raise errors.FlavorExists(name=name, flavor_id=flavor_id) from None
        return flavor

    def get(self, flavor_id: str) -> Flavor:
        with self.db.session(readonly=True) as s:
            flavor = s.get(Flavor, flavor_id)
        if flavor is None:
            raise errors.FlavorNotFound(flavor_id=flavor_id)
        return flavor

    def visible(self, flavor: Flavor, project_id: str | None, is_admin: bool) -> bool:
        if flavor.is_public or is_admin:
            return True
        return project_id in self.access(flavor.id)

    def get_visible(self, flavor_id: str, project_id: str | None, is_admin: bool) -> Flavor:
        flavor = self.get(flavor_id)
        if not self.visible(flavor, project_id, is_admin):
            raise errors.FlavorNotFound(flavor_id=flavor_id)
        return flavor

    def list(self, *, project_id: str | None, is_admin: bool, is_public: bool | None = True,
             min_ram: int | None = None, min_disk: int | None = None, sort: Sequence[tuple[str, str]] = (),
             limit: int | None = None, marker: str | None = None, name: str | None = None) -> builtins.list[Flavor]:
        """Nova's visibility: ``is_public=None`` means all (admin) or public plus those
        shared with the caller's project; non-admins never see others' private flavors."""
        stmt = sa.select(Flavor).where(Flavor.disabled.is_(False))
        shared = sa.select(FlavorAccess.flavor_id).where(FlavorAccess.project_id == project_id)
        if is_admin:
            if is_public is not None:
                stmt = stmt.where(Flavor.is_public.is_(is_public))
        elif is_public is None:
            stmt = stmt.where(sa.or_(Flavor.is_public.is_(True), Flavor.id.in_(shared)))
        elif is_public:
            stmt = stmt.where(sa.or_(Flavor.is_public.is_(True), Flavor.id.in_(shared)))
        else:
            stmt = stmt.where(Flavor.is_public.is_(False), Flavor.id.in_(shared))
        if min_ram is not None:
            stmt = stmt.where(Flavor.memory_mb >= min_ram)
        if min_disk is not None:
            stmt = stmt.where(Flavor.root_gb >= min_disk)
        with self.db.session(readonly=True) as s:
            rows = list(s.scalars(stmt))
        if name is not None:  # 2.102: a regular expression found in the name, as Nova's REGEXP
            rows = [f for f in rows if name_matches(name, f.name)]
        for key, direction in reversed(list(sort)):
            rows.sort(key=lambda f: (getattr(f, key) is None, getattr(f, key)), reverse=direction == "desc")
        if marker is not None:
            ids = [f.id for f in rows]
            if marker not in ids:
                raise errors.FlavorMarkerNotFound(marker=marker)
            rows = rows[ids.index(marker) + 1:]
        return rows[:limit] if limit is not None else rows

    def update_description(self, flavor_id: str, description: str | None) -> Flavor:
        with self.db.session() as s:
            flavor = s.get(Flavor, flavor_id)
            if flavor is None:
                raise errors.FlavorNotFound(flavor_id=flavor_id)
            flavor.description = description
        return flavor

    def delete(self, flavor_id: str) -> None:
        with self.db.session() as s:
            if s.get(Flavor, flavor_id) is None:
                raise errors.FlavorNotFound(flavor_id=flavor_id)
            s.execute(sa.delete(FlavorExtraSpec).where(FlavorExtraSpec.flavor_id == flavor_id))
            s.execute(sa.delete(FlavorAccess).where(FlavorAccess.flavor_id == flavor_id))
            s.execute(sa.delete(Flavor).where(Flavor.id == flavor_id))

    # -- extra specs -----------------------------------------------------------------
    def extra_specs(self, flavor_id: str) -> dict[str, str]:
        with self.db.session(readonly=True) as s:
            rows = s.scalars(sa.select(FlavorExtraSpec).where(FlavorExtraSpec.flavor_id == flavor_id))
            return {r.key: r.value for r in rows}

    def set_extra_specs(self, flavor_id: str, specs: dict[str, str]) -> dict[str, str]:
        self.get(flavor_id)

        def work(s):
            for key, value in specs.items():
                row = s.get(FlavorExtraSpec, (flavor_id, key))
                if row is None:
                    s.add(FlavorExtraSpec(flavor_id=flavor_id, key=key, value=value))
                else:
                    row.value = value
        try:
            with self.db.session() as s:
                work(s)
        except sa_exc.IntegrityError:  # a concurrent writer added the same key: last one wins
            with self.db.session() as s:
                work(s)
        return specs

    def delete_extra_spec(self, flavor_id: str, key: str) -> None:
        with self.db.session() as s:
            deleted = changed_rows(s, sa.delete(FlavorExtraSpec).where(FlavorExtraSpec.flavor_id == flavor_id,
                                                                       FlavorExtraSpec.key == key))
            if deleted != 1:
                raise errors.FlavorExtraSpecsNotFound(flavor_id=flavor_id, key=key)

    # -- access ----------------------------------------------------------------------
    def access(self, flavor_id: str) -> builtins.list[str]:
        with self.db.session(readonly=True) as s:
            return list(s.scalars(sa.select(FlavorAccess.project_id).where(FlavorAccess.flavor_id == flavor_id)))

    def add_access(self, flavor_id: str, project_id: str) -> None:
        if self.get(flavor_id).is_public:
            raise errors.FlavorAccessPublic()
        try:
            with self.db.session() as s:
                s.add(FlavorAccess(flavor_id=flavor_id, project_id=project_id))
        except sa_exc.IntegrityError:
            raise errors.FlavorAccessExists(flavor_id=flavor_id, project_id=project_id) from None

    def remove_access(self, flavor_id: str, project_id: str) -> None:
        self.get(flavor_id)
        with self.db.session() as s:
            deleted = changed_rows(s, sa.delete(FlavorAccess).where(FlavorAccess.flavor_id == flavor_id,
                                                                    FlavorAccess.project_id == project_id))
        if deleted != 1:
            raise errors.FlavorAccessNotFound(flavor_id=flavor_id, project_id=project_id)
