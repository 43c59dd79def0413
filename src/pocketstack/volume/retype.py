"""``os-retype``: give a volume another volume type.

A file backend stores a volume the same way whatever its type, so a retype to a type the
volume's backend serves is done in place: one transaction CASes the volume on
``(id, status, volume_type_id)`` to the new type and moves the per-type quota usage
(``volumes_<type>``, ``gigabytes_<type>``, ``snapshots_<type>``; the volume's snapshots
follow its type, as their deletes release usage under it) from the old type to the new
one by CAS.  A type only another backend serves needs a migration: with
``migration_policy=on-demand`` the volume moves there (:mod:`.migration`), with ``never``
(the default) it is Cinder's refusal, 400; a type no backend serves is 400 as well.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common.context import RequestContext
from pocketstack.common.db.cas import run_in_transaction
from pocketstack.volume import errors
from pocketstack.volume import models as m
from pocketstack.volume.backends import Backends
from pocketstack.volume.migration import Migrations, move_type_usage
from pocketstack.volume.states import existing, move
from pocketstack.volume.volumes import invalid

POLICIES = ("never", "on-demand")


class Retype:
    def __init__(self, db, volumes, types, quotas, backends: Backends, migrations: Migrations):
        self.db = db
        self.volumes = volumes
        self.types = types
        self.quotas = quotas
        self.backends = backends
        self.migrations = migrations

    def __call__(self, context: RequestContext, volume_id: str, new_type: object, policy: object) -> None:
        volume = self.volumes.get(context, volume_id)
        if not isinstance(new_type, str) or not new_type:
            raise errors.InvalidInput(reason="New volume type must be specified.")
        policy = "never" if policy is None else policy
        if policy not in POLICIES:
            raise errors.InvalidInput(reason=f"Invalid migration_policy {policy!r}: it must be "
                             f"'never' or 'on-demand'.")
        target = self.types.resolve(context, new_type)
        if target.id == volume.volume_type_id:
            raise errors.InvalidInput(reason=f"New volume_type same as original: {new_type}.")
        serving = self.backends.serving(target.extra_specs)
        if not serving:
            raise errors.InvalidVolumeType(reason=f"No valid backend was found for volume type {target.name}.")
        if self.backends.by_host(volume.host) not in serving:
            if policy == "never":
                raise errors.InvalidInput(reason="Retype requires migration but is not allowed.")
            self.migrations.start(volume_id, serving[0], "retyping", target)
            return
        old = self.types.get_by_id(volume.volume_type_id)
        multiattach = self.types.is_multiattach(target)

        def work(s: Session) -> None:
            if s.get(m.VolumeTypeEncryption, target.id) is not None:  # no volume here is encrypted
                raise errors.InvalidInput(reason="Retype cannot change encryption requirements.")
            row = existing(s, m.Volume, volume_id)
            if row.status not in ("available", "in-use"):
                raise invalid(volume_id, "retype", "available or in-use", row.status)
            if row.status == "in-use" and row.multiattach != multiattach:
                raise errors.InvalidVolume(reason="Retyping an in-use volume to or from a multiattach type "
                                 "is not supported.")
            sizes = list(s.scalars(sa.select(m.Snapshot.size).where(m.Snapshot.volume_id == volume_id)))
            move_type_usage(self.quotas, s, row, old.name if old else None, target.name, sizes)
            move(s, volume_id, row.status, row.status, extra_where={"volume_type_id": row.volume_type_id},
                 task_started_at=row.task_started_at, task_args=row.task_args, volume_type_id=target.id,
                 multiattach=multiattach)
        run_in_transaction(self.db, work)
