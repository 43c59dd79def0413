"""Device tags of a server's ports (``networks[].tag`` on create, the ``tag`` of an
``os-interface`` attach), which ``os-interface`` shows from microversion 2.70.  Nova
keeps them in its virtual interface records; a Neutron port has no such field, so the
tags live here, one row per tagged port, and go with the port's detach or the server."""

from __future__ import annotations

import sqlalchemy as sa

from pocketstack.common.db import Database
from pocketstack.compute.models import PortTag


class PortTags:
    def __init__(self, db: Database):
        self.db = db

    def replace(self, instance_id: str, tags: dict[str, str]) -> None:
        """The tags of the ports a build allocated (port id -> tag, tagged ports only),
        instead of those of any ports an interrupted build allocated before."""
        with self.db.session() as s:
            s.execute(sa.delete(PortTag).where(PortTag.instance_id == instance_id))
            s.add_all(PortTag(instance_id=instance_id, port_id=port_id, tag=tag) for port_id, tag in tags.items())

    def add(self, instance_id: str, port_id: str, tag: str) -> None:
        with self.db.session() as s:
            s.add(PortTag(instance_id=instance_id, port_id=port_id, tag=tag))

    def for_instance(self, instance_id: str) -> dict[str, str]:
        with self.db.session(readonly=True) as s:
            rows = s.execute(sa.select(PortTag.port_id, PortTag.tag).where(PortTag.instance_id == instance_id))
            return {port_id: tag for port_id, tag in rows}

    def forget(self, instance_id: str, port_id: str) -> None:
        with self.db.session() as s:
            s.execute(sa.delete(PortTag).where(PortTag.instance_id == instance_id, PortTag.port_id == port_id))
