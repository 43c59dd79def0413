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
        default type: the caller's project's own (3.62), else ``__DEFAULT__``.  Cinder's
        404 names a UUID-like reference as an id, others as a name."""
        if not name_or_id and (own := self.project_default(context.project_id)) is not None:
            return own
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

    def list(self, context: RequestContext, is_public: bool | None = None,
             extra_specs: dict[str, str] | None = None) -> list[m.VolumeType]:
        """The types the caller may see, filtered as Cinder's database filters ``is_public``:
        ``True`` keeps the public types and those shared with the caller's project (so the
        admin, who may see every type, is not shown other projects' private ones),
        ``False`` the private types, ``None`` all of them.  ``extra_specs`` keeps the types
        with each of those specs set to that value."""
        with self.db.session(readonly=True) as s:
            stmt = sa.select(m.VolumeType).where(self._visible(context)).order_by(m.VolumeType.name)
            if is_public:
                stmt = stmt.where(self._public_or_shared_with(context.project_id))
            elif is_public is not None:
                stmt = stmt.where(m.VolumeType.is_public.is_(False))
            rows = list(s.scalars(stmt))
            s.expunge_all()
        # The specs are one JSON column: matched here, on the few types a cloud has.
        return [t for t in rows if all((t.extra_specs or {}).get(k) == v for k, v in (extra_specs or {}).items())]

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

    # -- projects' default types (3.62) ------------------------------------------------
    def project_default(self, project_id: str | None) -> m.VolumeType | None:
        with self.db.session(readonly=True) as s:
            row = s.scalar(sa.select(m.VolumeType).join(m.DefaultType, m.DefaultType.volume_type_id == m.VolumeType.id)
                           .where(m.DefaultType.project_id == project_id)) if project_id else None
            if row is not None:
                s.expunge(row)
            return row

    def defaults(self, project_id: str | None = None) -> builtins.list[m.DefaultType]:
        """Every project's default type, or ``project_id``'s alone."""
        with self.db.session(readonly=True) as s:
            stmt = sa.select(m.DefaultType).order_by(m.DefaultType.project_id)
            rows = list(s.scalars(stmt.where(m.DefaultType.project_id == project_id) if project_id else stmt))
            s.expunge_all()
            return rows

    def set_default(self, context: RequestContext, project_id: str, name_or_id: str) -> m.DefaultType:
        """Make the type (by name or id; a 400 when there is none) ``project_id``'s default."""
        try:
            vtype = self.resolve(context, name_or_id)
        except errors.NotFound as error:
            raise errors.InvalidBody(reason=error.message) from None

        def work(s: Session) -> None:
            row = s.get(m.DefaultType, project_id)
            if row is None:
                s.add(m.DefaultType(project_id=project_id, volume_type_id=vtype.id))
            else:
                row.volume_type_id = vtype.id
        try:
            run_in_transaction(self.db, work)
        except sa_exc.IntegrityError:  # the type was deleted meanwhile, or another set won the insert
            return self.set_default(context, project_id, name_or_id)
        return self.defaults(project_id)[0]

    def unset_default(self, project_id: str) -> None:
        with self.db.session() as s:
            s.execute(sa.delete(m.DefaultType).where(m.DefaultType.project_id == project_id))

    def delete(self, context: RequestContext, type_id: str) -> None:
        vtype = self.get(context, type_id)
        if vtype.name == DEFAULT_TYPE:
            raise errors.DefaultVolumeTypeDeletion()
        try:
            with self.db.session() as s:
                # A project's default (3.62) cannot go; one set meanwhile fails the delete at
                # the foreign key, with the same answer.
                if s.scalar(sa.select(m.DefaultType.project_id).where(m.DefaultType.volume_type_id == type_id)
                            .limit(1)):
                    raise errors.DefaultTypeDeletion(volume_type_id=type_id)
                used = sa.select(sa.func.count()).select_from(m.Volume).where(m.Volume.volume_type_id == type_id)
                by_groups = sa.select(sa.func.count()).select_from(m.GroupVolumeType).where(
                    m.GroupVolumeType.volume_type_id == type_id)
                if s.scalar(used) or s.scalar(by_groups):  # a volume or a group has it (Cinder's rule)
                    raise errors.VolumeTypeInUse(volume_type_id=type_id)
                s.execute(sa.delete(m.VolumeTypeAccess).where(m.VolumeTypeAccess.volume_type_id == type_id))
                s.execute(sa.delete(m.VolumeTypeEncryption).where(m.VolumeTypeEncryption.volume_type_id == type_id))
                s.execute(sa.delete(m.QosAssociation).where(m.QosAssociation.volume_type_id == type_id))
                s.execute(sa.delete(m.VolumeType).where(m.VolumeType.id == type_id))
        except sa_exc.IntegrityError:
            raise errors.DefaultTypeDeletion(volume_type_id=type_id) from None

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
