"""The address scope / RBAC migration: networks shared or external before it get the
wildcard policies Neutron would have made for them, so they stay visible to everyone."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from pocketstack.common.db.engine import create_engine
from pocketstack.common.db.migrate import alembic_config

BEFORE = "9c4e7b2a1d58"


def test_shared_and_external_networks_get_wildcard_policies(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path}/network.db")
    cfg = alembic_config(engine)
    command.upgrade(cfg, "heads")
    command.downgrade(cfg, BEFORE)
    with engine.begin() as conn:
        for net_id, shared, external in (("shared", 1, 0), ("external", 0, 1), ("both", 1, 1), ("private", 0, 0)):
            conn.execute(sa.text(
                "INSERT INTO network_network (id, project_id, name, description, created_at, updated_at, "
                "revision_number, admin_state_up, status, shared, external, is_default, mtu, port_security_enabled) "
                "VALUES (:id, 'owner', '', '', '2026-01-01', '2026-01-01', 0, 1, 'ACTIVE', :shared, :external, 0, "
                "1500, 1)"), {"id": net_id, "shared": shared, "external": external})
    command.upgrade(cfg, "heads")
    with engine.connect() as conn:
        rows = set(conn.execute(sa.text(
            "SELECT object_id, action, target_tenant, project_id, object_type FROM network_rbac_policy")))
    engine.dispose()
    assert rows == {("shared", "access_as_shared", "*", "owner", "network"),
                    ("external", "access_as_external", "*", "owner", "network"),
                    ("both", "access_as_shared", "*", "owner", "network"),
                    ("both", "access_as_external", "*", "owner", "network")}
