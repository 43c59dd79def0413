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


def test_shared_objects_get_wildcard_policies_of_their_type(tmp_path):
    """Before RBAC on other objects, ``shared`` alone shared a QoS policy, an address
    scope or a subnet pool: the migration turns it into the wildcard policy."""
    engine = create_engine(f"sqlite:///{tmp_path}/network.db")
    cfg = alembic_config(engine)
    command.upgrade(cfg, "7e2b5c9d1f36")
    stamp = "'2026-01-01'"
    with engine.begin() as conn:
        for table, extra_columns, extra_values in (
                ("network_qos_policy", "name, description, created_at, updated_at, revision_number, generation",
                 f"'', '', {stamp}, {stamp}, 0, 0"),
                ("network_address_scope", "name, ip_version, generation", "'', 4, 0"),
                ("network_subnetpool", "name, description, created_at, updated_at, revision_number, ip_version, "
                 "prefixes, default_prefixlen, min_prefixlen, max_prefixlen, is_default, allocated, generation",
                 f"'', '', {stamp}, {stamp}, 0, 4, '[]', 24, 8, 32, 0, '[]', 0")):
            for suffix, shared in (("shared", 1), ("private", 0)):
                conn.execute(sa.text(f"INSERT INTO {table} (id, project_id, shared, {extra_columns}) "
                                     f"VALUES ('{table}-{suffix}', 'owner', {shared}, {extra_values})"))
    command.upgrade(cfg, "heads")
    with engine.connect() as conn:
        rows = set(conn.execute(sa.text(
            "SELECT object_type, object_id, target_tenant, project_id, "
            "COALESCE(qos_policy_id, address_scope_id, subnetpool_id) FROM network_rbac_policy")))
    engine.dispose()
    assert rows == {("qos_policy", "network_qos_policy-shared", "*", "owner", "network_qos_policy-shared"),
                    ("address_scope", "network_address_scope-shared", "*", "owner", "network_address_scope-shared"),
                    ("subnetpool", "network_subnetpool-shared", "*", "owner", "network_subnetpool-shared")}
