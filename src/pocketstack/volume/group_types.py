"""Group types (3.11+): named bundles of group specs for generic volume groups.

As volume types, but without an access list: Cinder has no API to share a private group
type, so a private one is visible to the admin only.  Specs change by CAS on
``generation``; a type some group uses cannot be deleted.
"""

from __future__ import annotations

import builtins
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from pocketstack.common.context import RequestContext
from pocketstack.common.db.cas import cas_update, run_in_transaction
from pocketstack.common.pagination import Paging, apply_paging
from pocketstack.volume import errors
from pocketstack.volume import models as m
from pocketstack.volume.types import is_uuid_like


class GroupTypes:
    def __init__(self, db):
        self.db = db

    @staticmethod
    def _visible(context: RequestContext):
        return sa.true() if context.is_admin else m.GroupType.is_public.is_(True)

    def get(self, context: RequestContext, type_id: str) -> m.GroupType:
        with self.db.session(readonly=True) as s:
            row = s.scalar(sa.select(m.GroupType).where(m.GroupType.id == type_id, self._visible(context)))
            if row is None:
                raise errors.GroupTypeNotFound(group_type_id=type_id)
            s.expunge(row)
            return row

    def resolve(self, context: RequestContext, name_or_id: str) -> m.GroupType:
        """A group create's ``group_type``: by id when it looks like one (then by name),
        else by name, as Cinder's group API looks it up."""
        with self.db.session(readonly=True) as s:
            row = s.scalar(sa.select(m.GroupType).where(
                sa.or_(m.GroupType.id == name_or_id, m.GroupType.name == name_or_id), self._visible(context)))
            if row is None and is_uuid_like(name_or_id):
                raise errors.GroupTypeNotFound(group_type_id=name_or_id)
            if row is None:
                raise errors.GroupTypeNotFoundByName(group_type_name=name_or_id)
            s.expunge(row)
            return row

    def list(self, context: RequestContext, is_public: bool | None, paging: Paging,
             offset: int = 0) -> builtins.list[m.GroupType]:
        with self.db.session(readonly=True) as s:
            stmt = sa.select(m.GroupType).where(self._visible(context))
            if is_public is not None:
                stmt = stmt.where(m.GroupType.is_public.is_(is_public))
            marker = None
            if paging.marker:
                marker = s.scalar(sa.select(m.GroupType).where(m.GroupType.id == paging.marker,
                                                               self._visible(context)))
                if marker is None:
                    raise errors.MarkerNotFound(marker=paging.marker)
            stmt = apply_paging(stmt, m.GroupType, paging, marker)
            rows = list(s.scalars(stmt.offset(offset) if offset else stmt))
            s.expunge_all()
            return rows

    def create(self, name: str, description: str | None, is_public: bool, specs: dict) -> m.GroupType:
        row = m.GroupType(id=str(uuid.uuid4()), name=name, description=description, is_public=is_public,
                          group_specs=dict(specs))
        try:
            with self.db.session() as s:
                s.add(row)
        except sa_exc.IntegrityError:
            raise errors.GroupTypeExists(id=name) from None
        return self._existing(row.id)

    def update(self, context: RequestContext, type_id: str, values: dict[str, Any]) -> m.GroupType:
        gtype = self.get(context, type_id)
        try:
            run_in_transaction(self.db, lambda s: cas_update(
                s, m.GroupType, where={"id": type_id, "generation": gtype.generation},
                values={**values, "generation": gtype.generation + 1}))
        except sa_exc.IntegrityError:
            raise errors.GroupTypeExists(id=values.get("name")) from None
        return self._existing(type_id)

    def _existing(self, type_id: str) -> m.GroupType:
        with self.db.session(readonly=True) as s:
            row = s.get(m.GroupType, type_id)
            if row is None:  # deleted meanwhile
                raise errors.GroupTypeNotFound(group_type_id=type_id)
            s.expunge(row)
            return row

    def set_specs(self, context: RequestContext, type_id: str, specs: dict, remove: str | None = None) -> None:
        """Merge ``specs`` into the type's (or remove the key ``remove``) by CAS."""
        self.get(context, type_id)

        def work(s: Session) -> None:
            row = s.get(m.GroupType, type_id)
            if row is None:
                raise errors.GroupTypeNotFound(group_type_id=type_id)
            merged = {**row.group_specs, **specs}
            if remove is not None:
                if remove not in merged:
                    raise errors.GroupTypeSpecsNotFound(group_type_id=type_id, group_specs_key=remove)
                del merged[remove]
            cas_update(s, m.GroupType, where={"id": type_id, "generation": row.generation},
                       values={"group_specs": merged, "generation": row.generation + 1})
        run_in_transaction(self.db, work)

    def delete(self, context: RequestContext, type_id: str) -> None:
        """Refused while a group has the type (Cinder's "Target group type is still in use.")."""
        self.get(context, type_id)
        with self.db.session() as s:
            if s.scalar(sa.select(sa.func.count()).select_from(m.Group).where(m.Group.group_type_id == type_id)):
                raise errors.GroupTypeInUse()
            s.execute(sa.delete(m.GroupType).where(m.GroupType.id == type_id))
