"""The trunk status migration: a trunk stored before it is ACTIVE when its parent port is
bound and ACTIVE (the status it showed, computed, until then), DOWN otherwise."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from pocketstack.common.db.engine import create_engine
from pocketstack.common.db.migrate import alembic_config

BEFORE = "b7c1e4f9a2d3"
STAMP = "'2026-01-01'"


def test_stored_trunks_keep_the_status_their_parent_gave_them(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path}/network.db")
    cfg = alembic_config(engine)
    command.upgrade(cfg, "heads")
    command.downgrade(cfg, BEFORE)
    standard = "project_id, name, description, created_at, updated_at, revision_number"
    with engine.begin() as conn:
        conn.execute(sa.text(
            f"INSERT INTO network_network (id, {standard}, admin_state_up, status, shared, external, is_default, "
            f"mtu, port_security_enabled) VALUES ('net', 'p', '', '', {STAMP}, {STAMP}, 0, 1, 'ACTIVE', 0, 0, 0, "
            "1500, 1)"))
        for port_id, host, status in (("bound", "compute-1", "ACTIVE"), ("unbound", "", "DOWN"),
                                      ("bound-down", "compute-1", "DOWN")):
            conn.execute(sa.text(
                f"INSERT INTO network_port (id, {standard}, network_id, mac_address, admin_state_up, status, "
                "device_id, device_owner, binding_host_id, binding_vnic_type, binding_profile, "
                "port_security_enabled, allowed_address_pairs, security_groups, extra_dhcp_opts, compute_created) "
                f"VALUES (:id, 'p', '', '', {STAMP}, {STAMP}, 0, 'net', :mac, 1, :status, '', '', :host, 'normal', "
                "'{}', 1, '[]', '[]', '[]', 0)"), {"id": port_id, "mac": f"fa:16:3e:00:00:0{len(port_id)}",
                                                  "status": status, "host": host})
            conn.execute(sa.text(f"INSERT INTO network_trunk (id, {standard}, admin_state_up, port_id) "
                                 f"VALUES (:id, 'p', '', '', {STAMP}, {STAMP}, 0, 1, :port)"),
                         {"id": f"trunk-{port_id}", "port": port_id})
    command.upgrade(cfg, "heads")
    with engine.connect() as conn:
        rows = dict(conn.execute(sa.text("SELECT id, status FROM network_trunk")).all())
    engine.dispose()
    assert rows == {"trunk-bound": "ACTIVE", "trunk-unbound": "DOWN", "trunk-bound-down": "DOWN"}
