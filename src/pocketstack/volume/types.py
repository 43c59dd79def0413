"""Volume types: named bundles of extra specs, public or shared with chosen projects.

The ``__DEFAULT__`` type always exists (as in Cinder since Train), so every volume has a
type and per-type quotas always apply.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from pocketstack.common.context import RequestContext
from pocketstack.common.db.cas import cas_update, run_in_transaction
from pocketstack.volume import errors
from pocketstack.volume import models as m
from pocketstack.volume.states import existing, rowcount

DEFAULT_TYPE = "__DEFAULT__"


def is_uuid_like(value: object) -> bool:
    """oslo's ``uuidutils.is_uuid_like``: a UUID, with or without dashes, in any case."""
    try:
        return str(uuid.UUID(str(value))).replace("-", "") == str(value).replace("-", "").lower()
    except ValueError:
        return False


class Types:
    def __init__(self, db):
        self.db = db

    def ensure_default(self) -> None:
        try:
            with self.db.session() as s:
                if s.scalar(sa.select(m.VolumeType).where(m.VolumeType.name == DEFAULT_TYPE)) is None:
                    s.add(m.VolumeType(id=str(uuid.uuid4()), name=DEFAULT_TYPE, description="Default Volume Type",
                                       is_public=True, extra_specs={}))
        except sa_exc.IntegrityError:
            pass  # another process created it first

    @staticmethod
    def _public_or_shared_with(project_id: str | None):
        return sa.or_(m.VolumeType.is_public.is_(True), sa.exists().where(
            m.VolumeTypeAccess.volume_type_id == m.VolumeType.id, m.VolumeTypeAccess.project_id == project_id))

    def _visible(self, context: RequestContext):
        return sa.true() if context.is_admin else self._public_or_shared_with(context.project_id)

    def get(self, context: RequestContext, type_id: str) -> m.VolumeType:
        with self.db.session(readonly=True) as s:
            row = s.scalar(sa.select(m.VolumeType).where(m.VolumeType.id == type_id, self._visible(context)))
            if row is None:
                raise errors.VolumeTypeNotFound(volume_type_id=type_id)
            s.expunge(row)
            return row

    def get_by_id(self, type_id: str | None) -> m.VolumeType | None:
        with self.db.session(readonly=True) as s:
            row = s.get(m.VolumeType, type_id) if type_id else None
            if row is not None:
                s.expunge(row)
            return row

    def names(self, type_ids: Iterable[str]) -> dict[str, str]:
        with self.db.session(readonly=True) as s:
            return dict(s.execute(sa.select(m.VolumeType.id, m.VolumeType.name).where(
                m.VolumeType.id.in_(list(type_ids)))).all())

    def resolve(self, context: RequestContext, name_or_id: str | None) -> m.VolumeType:
        """The type a request names (by id or name, among those the caller may see), or the
        default type.  Cinder's 404 names a UUID-like reference as an id, others as a name."""
        with self.db.session(readonly=True) as s:
            row = s.scalar(sa.select(m.VolumeType).where(
                sa.or_(m.VolumeType.id == name_or_id, m.VolumeType.name == name_or_id)
                if name_or_id else m.VolumeType.name == DEFAULT_TYPE, self._visible(context)))
            if row is None and is_uuid_like(name_or_id):
                raise errors.VolumeTypeNotFound(volume_type_id=name_or_id)
            if row is None:
                raise errors.VolumeTypeNotFoundByName(volume_type_name=name_or_id)
            s.expunge(row)
            return row

    @staticmethod
    def is_multiattach(vtype: m.VolumeType) -> bool:
        return str(vtype.extra_specs.get("multiattach", "")).lower() in ("<is> true", "true")

    def list(self, context: RequestContext, is_public: bool | None = None) -> list[m.VolumeType]:
        """The types the caller may see, filtered as Cinder's database filters ``is_public``:
        ``True`` keeps the public types and those shared with the caller's project (so the
        admin, who may see every type, is not shown other projects' private ones),
        ``False`` the private types, ``None`` all of them."""
        with self.db.session(readonly=True) as s:
            stmt = sa.select(m.VolumeType).where(self._visible(context)).order_by(m.VolumeType.name)
            if is_public:
                stmt = stmt.where(self._public_or_shared_with(context.project_id))
            elif is_public is not None:
                stmt = stmt.where(m.VolumeType.is_public.is_(False))
            rows = list(s.scalars(stmt))
            s.expunge_all()
            return rows

    def create(self, name: str, description: str | None, is_public: bool, extra_specs: dict) -> m.VolumeType:
        row = m.VolumeType(id=str(uuid.uuid4()), name=name, description=description, is_public=is_public,
                           extra_specs={k: str(v) for k, v in extra_specs.items()})
        try:
            with self.db.session() as s:
                s.add(row)
        except sa_exc.IntegrityError:
            raise errors.VolumeTypeExists(name=name) from None
        return self._existing(row.id)

    def update(self, context: RequestContext, type_id: str, values: dict) -> m.VolumeType:
        vtype = self.get(context, type_id)
        try:
            run_in_transaction(self.db, lambda s: cas_update(
                s, m.VolumeType, where={"id": type_id, "generation": vtype.generation},
                values={**values, "generation": vtype.generation + 1}))
        except sa_exc.IntegrityError:
            raise errors.VolumeTypeExists(name=values.get("name")) from None
        return self._existing(type_id)

    def _existing(self, type_id: str) -> m.VolumeType:
        """The type just written (a concurrent delete makes it the type's 404)."""
        with self.db.session(readonly=True) as s:
            row = existing(s, m.VolumeType, type_id)
            s.expunge(row)
            return row

    def set_extra_specs(self, context: RequestContext, type_id: str, specs: dict, remove: str | None = None) -> dict:
        def work(s: Session) -> dict:
            row = s.get(m.VolumeType, type_id)
            if row is None:
                raise errors.VolumeTypeNotFound(volume_type_id=type_id)
            merged = {**row.extra_specs, **{k: str(v) for k, v in specs.items()}}
            if remove is not None:
                if remove not in merged:
                    raise errors.VolumeTypeExtraSpecsNotFound(volume_type_id=type_id, extra_specs_key=remove)
                del merged[remove]
            cas_update(s, m.VolumeType, where={"id": type_id, "generation": row.generation},
                       values={"extra_specs": merged, "generation": row.generation + 1})
            return merged
        return run_in_transaction(self.db, work)

    def delete(self, context: RequestContext, type_id: str) -> None:
        vtype = self.get(context, type_id)
        if vtype.name == DEFAULT_TYPE:
            raise errors.DefaultVolumeTypeDeletion()
        with self.db.session() as s:
            if s.scalar(sa.select(sa.func.count()).select_from(m.Volume).where(m.Volume.volume_type_id == type_id)):
                raise errors.VolumeTypeInUse(volume_type_id=type_id)
            s.execute(sa.delete(m.VolumeTypeAccess).where(m.VolumeTypeAccess.volume_type_id == type_id))
            s.execute(sa.delete(m.QosAssociation).where(m.QosAssociation.volume_type_id == type_id))
            s.execute(sa.delete(m.VolumeType).where(m.VolumeType.id == type_id))

    def access(self, context: RequestContext, type_id: str) -> builtins.list[str]:
        vtype = self.get(context, type_id)
        if vtype.is_public:
            raise errors.PublicVolumeTypeAccess(volume_type_id=type_id)
        with self.db.session(readonly=True) as s:
            return list(s.scalars(sa.select(m.VolumeTypeAccess.project_id).where(
                m.VolumeTypeAccess.volume_type_id == type_id)))

    def add_access(self, context: RequestContext, type_id: str, project_id: str) -> None:
        vtype = self.get(context, type_id)
        if vtype.is_public:
            raise errors.InvalidVolumeType(reason="Type access modification is not applicable to public volume type.")
        try:
            with self.db.session() as s:
                s.add(m.VolumeTypeAccess(volume_type_id=type_id, project_id=project_id))
        except sa_exc.IntegrityError:
            raise errors.VolumeTypeAccessExists(volume_type_id=type_id, project_id=project_id) from None

    def remove_access(self, context: RequestContext, type_id: str, project_id: str) -> None:
        self.get(context, type_id)
        with self.db.session() as s:
            result = s.execute(sa.delete(m.VolumeTypeAccess).where(m.VolumeTypeAccess.volume_type_id == type_id,
                                                                    m.VolumeTypeAccess.project_id == project_id))
            if rowcount(result) == 0:
                raise errors.VolumeTypeAccessNotFound(volume_type_id=type_id, project_id=project_id)
