"""``os-retype``: give a volume another volume type.

The file backend stores a volume the same way whatever its type, so a retype to a type
this backend can serve is done in place: one transaction CASes the volume on
``(id, status, volume_type_id)`` to the new type and moves the per-type quota usage
(``volumes_<type>``, ``gigabytes_<type>``, ``snapshots_<type>``; the volume's snapshots
follow its type, as their deletes release usage under it) from the old type to the new
one by CAS.  No data moves, so there is no ``retyping`` state to recover and
``migration_policy`` (``never`` / ``on-demand``) never has to migrate.  A type whose extra
specs ask for another backend, vendor or protocol has no backend here: 400.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common.context import RequestContext
from pocketstack.common.db.cas import run_in_transaction
from pocketstack.volume import errors
from pocketstack.volume import models as m
from pocketstack.volume.drivers.base import Capabilities
from pocketstack.volume.states import existing, move
from pocketstack.volume.volumes import invalid

POLICIES = ("never", "on-demand")


class Retype:
    def __init__(self, db, volumes, types, quotas, capabilities: Callable[[], Capabilities]):
        self.db = db
        self.volumes = volumes
        self.types = types
        self.quotas = quotas
        self.capabilities = capabilities

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
        if not self.capabilities().serves(target.extra_specs or {}):
            raise errors.InvalidVolumeType(reason=f"No valid backend was found for volume type {target.name}.")
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
            moved = {"volumes": 1, "gigabytes": row.size + sum(sizes), "snapshots": len(sizes)}
            self.quotas.reserve(s, row.project_id, None, **{f"{k}_{target.name}": v for k, v in moved.items()})
            if old is not None:
                self.quotas.reserve(s, row.project_id, None, **{f"{k}_{old.name}": -v for k, v in moved.items()})
            move(s, volume_id, row.status, row.status, extra_where={"volume_type_id": row.volume_type_id},
                 task_started_at=row.task_started_at, task_args=row.task_args, volume_type_id=target.id,
                 multiattach=multiattach)
        run_in_transaction(self.db, work)
