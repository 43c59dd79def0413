"""Key/value items of a volume or a snapshot (``metadata``, the volume's image metadata):
one table each, the same reads and writes, so one class serves all three."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common.db.cas import run_in_transaction
from pocketstack.volume import models as m
from pocketstack.volume.states import rowcount


class Items:
    """The items of one table (``model``) whose owner's id is the column ``owner``."""

    def __init__(self, db: Any, model: type[m.VolumeMetadata] | type[m.SnapshotMetadata] | type[m.VolumeImageMetadata],
                 owner: str):
        self.db = db
        self.model: Any = model
        self.owner = owner

    def _column(self) -> Any:
        return getattr(self.model, self.owner)

    def read(self, owner_ids: list[str]) -> dict[str, dict[str, str]]:
        """Every owner's items, ``{}`` for an owner without any."""
        result: dict[str, dict[str, str]] = {i: {} for i in owner_ids}
        with self.db.session(readonly=True) as s:
            for row in s.scalars(sa.select(self.model).where(self._column().in_(owner_ids))):
                result[getattr(row, self.owner)][row.key] = row.value
        return result

    def add(self, s: Session, owner_id: str, items: dict[str, Any]) -> None:
        """Insert ``items`` of a new owner (values as text), in the caller's transaction."""
        s.add_all([self.model(**{self.owner: owner_id}, key=k, value=str(v)) for k, v in items.items()])

    def replace_in(self, s: Session, owner_id: str, items: dict[str, Any]) -> None:
        """Make ``items`` the owner's only items, in the caller's transaction."""
        s.execute(sa.delete(self.model).where(self._column() == owner_id))
        s.flush()
        self.add(s, owner_id, items)

    def write(self, owner_id: str, items: dict[str, Any], replace: bool = False) -> dict[str, str]:
        """Set ``items`` (add or overwrite; with ``replace`` drop the others); the owner's
        items after."""
        def work(s: Session) -> None:
            if replace:
                self.replace_in(s, owner_id, items)
                return
            for key, value in items.items():
                row = s.get(self.model, (owner_id, key))
                if row is None:
                    s.add(self.model(**{self.owner: owner_id}, key=key, value=str(value)))
                else:
                    row.value = str(value)
        run_in_transaction(self.db, work)
        return self.read([owner_id])[owner_id]

    def remove(self, owner_id: str, key: str) -> bool:
        """Delete one item; False when the owner had no such key."""
        with self.db.session() as s:
            result = s.execute(sa.delete(self.model).where(self._column() == owner_id, self.model.key == key))
            return bool(rowcount(result))
