"""QoS specs: named limits a volume type points at (one QoS specs per type).

The file backend does not enforce them (its capabilities say ``QoS_support: false``);
they are stored and associated exactly as in Cinder so a front-end consumer (Nova) or a
future backend can apply them.
"""

from __future__ import annotations

import builtins
import uuid

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from pocketstack.volume import errors
from pocketstack.volume import models as m

CONSUMERS = ("front-end", "back-end", "both")


class Qos:
    def __init__(self, db):
        self.db = db

    def get(self, qos_id: str) -> m.QosSpecs:
        with self.db.session(readonly=True) as s:
            row = s.get(m.QosSpecs, qos_id)
            if row is None:
                raise errors.QoSSpecsNotFound(specs_id=qos_id)
            s.expunge(row)
            return row

    def list(self) -> list[m.QosSpecs]:
        with self.db.session(readonly=True) as s:
            rows = list(s.scalars(sa.select(m.QosSpecs).order_by(m.QosSpecs.name)))
            s.expunge_all()
            return rows

    def create(self, name: str, consumer: str, specs: dict) -> m.QosSpecs:
        if consumer not in CONSUMERS:
            raise errors.InvalidInput(reason=f"consumer must be one of {', '.join(CONSUMERS)}.")
        row = m.QosSpecs(id=str(uuid.uuid4()), name=name, consumer=consumer,
                         specs={k: str(v) for k, v in specs.items()})
        try:
            with self.db.session() as s:
                s.add(row)
        except sa_exc.IntegrityError:
            raise errors.QoSSpecsExists(specs_id=name) from None
        return self.get(row.id)

    def set_keys(self, qos_id: str, specs: dict) -> dict:
        self.get(qos_id)
        with self.db.session() as s:
            row = s.get(m.QosSpecs, qos_id)
            row.specs = {**row.specs, **{k: str(v) for k, v in specs.items()}}
        return {k: str(v) for k, v in specs.items()}

    def unset_keys(self, qos_id: str, keys: builtins.list[str]) -> None:
        with self.db.session() as s:
            row = s.get(m.QosSpecs, qos_id)
            if row is None:
                raise errors.QoSSpecsNotFound(specs_id=qos_id)
            missing = [k for k in keys if k not in row.specs]
            if missing:
                raise errors.QoSSpecsKeyNotFound(specs_key=missing[0], specs_id=qos_id)
            row.specs = {k: v for k, v in row.specs.items() if k not in keys}

    def delete(self, qos_id: str, force: bool) -> None:
        self.get(qos_id)
        with self.db.session() as s:
            used = s.scalar(sa.select(sa.func.count()).select_from(m.QosAssociation).where(
                m.QosAssociation.qos_specs_id == qos_id))
            if used and not force:
                raise errors.QoSSpecsInUse(specs_id=qos_id)
            s.execute(sa.delete(m.QosAssociation).where(m.QosAssociation.qos_specs_id == qos_id))
            s.execute(sa.delete(m.QosSpecs).where(m.QosSpecs.id == qos_id))

    def associations(self, qos_id: str) -> builtins.list[m.VolumeType]:
        self.get(qos_id)
        with self.db.session(readonly=True) as s:
            rows = list(s.scalars(sa.select(m.VolumeType).join(
                m.QosAssociation, m.QosAssociation.volume_type_id == m.VolumeType.id).where(
                m.QosAssociation.qos_specs_id == qos_id)))
            s.expunge_all()
            return rows

    def associate(self, qos_id: str, type_id: str) -> None:
        self.get(qos_id)
        try:
            with self.db.session() as s:
                if s.get(m.VolumeType, type_id) is None:
                    raise errors.VolumeTypeNotFound(volume_type_id=type_id)
                current = s.get(m.QosAssociation, type_id)
                if current is not None and current.qos_specs_id != qos_id:
                    raise errors.QoSSpecsAssociated(type_id=type_id, specs_id=current.qos_specs_id)
                if current is None:
                    s.add(m.QosAssociation(volume_type_id=type_id, qos_specs_id=qos_id))
        except sa_exc.IntegrityError:
            raise errors.QoSSpecsAssociatedMeanwhile(type_id=type_id) from None

    def disassociate(self, qos_id: str, type_id: str | None) -> None:
        self.get(qos_id)
        with self.db.session() as s:
            stmt = sa.delete(m.QosAssociation).where(m.QosAssociation.qos_specs_id == qos_id)
            if type_id is not None:
                stmt = stmt.where(m.QosAssociation.volume_type_id == type_id)
            s.execute(stmt)

    def by_type(self, type_ids) -> dict[str, str]:
        with self.db.session(readonly=True) as s:
            return dict(s.execute(sa.select(m.QosAssociation.volume_type_id, m.QosAssociation.qos_specs_id).where(
                m.QosAssociation.volume_type_id.in_(list(type_ids)))).all())
