"""The metering and flavors migration goes down and up again: its tables go and come
back, a label's rules go with it (the foreign key's cascade) and a bound service profile
stays (its binding's foreign key refuses the delete)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command

from pocketstack.common.db.engine import create_engine
from pocketstack.common.db.migrate import alembic_config

BEFORE = "c5d2e8a1f4b7"
TABLES = {"network_metering_label", "network_metering_label_rule", "network_flavor", "network_service_profile",
          "network_flavor_service_profile"}


def test_down_and_up_and_the_foreign_keys(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path}/network.db")
    cfg = alembic_config(engine)
    command.upgrade(cfg, "heads")
    command.downgrade(cfg, BEFORE)
    assert not TABLES & set(sa.inspect(engine).get_table_names())
    command.upgrade(cfg, "heads")
    assert TABLES <= set(sa.inspect(engine).get_table_names())
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO network_metering_label (id, project_id, name, description, shared) "
                             "VALUES ('l', 'p', '', '', 0)"))
        conn.execute(sa.text("INSERT INTO network_metering_label_rule (id, metering_label_id, direction, excluded) "
                             "VALUES ('r', 'l', 'ingress', 0)"))
        conn.execute(sa.text("DELETE FROM network_metering_label"))
        assert conn.execute(sa.text("SELECT count(*) FROM network_metering_label_rule")).scalar() == 0
        conn.execute(sa.text("INSERT INTO network_flavor (id, name, service_type, enabled) "
                             "VALUES ('f', '', 'L3_ROUTER_NAT', 1)"))
        conn.execute(sa.text("INSERT INTO network_service_profile (id, driver, enabled) VALUES ('s', '', 1)"))
        conn.execute(sa.text("INSERT INTO network_flavor_service_profile VALUES ('f', 's')"))
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM network_service_profile"))
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM network_flavor"))
        assert conn.execute(sa.text("SELECT count(*) FROM network_flavor_service_profile")).scalar() == 0
        conn.execute(sa.text("DELETE FROM network_service_profile"))
    engine.dispose()
