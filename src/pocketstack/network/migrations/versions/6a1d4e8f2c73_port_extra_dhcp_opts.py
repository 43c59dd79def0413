"""ports keep their extra DHCP options

Revision ID: 6a1d4e8f2c73
Revises: 3e9c2a7d5b14
Create Date: 2026-12-06 14:00:00.000000

Neutron's extra_dhcp_opt extension: a JSON list of ``{opt_name, opt_value, ip_version}``
per port; existing ports have none.
"""

import sqlalchemy as sa
from alembic import op

import pocketstack.common.db.base

revision = '6a1d4e8f2c73'
down_revision = '3e9c2a7d5b14'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Added nullable, filled, then made NOT NULL: no TEXT server default (MariaDB's rules differ).
    with op.batch_alter_table('network_port', schema=None) as batch_op:
        batch_op.add_column(sa.Column('extra_dhcp_opts', pocketstack.common.db.base.JSONText(), nullable=True))
    port = sa.table('network_port', sa.column('extra_dhcp_opts', sa.Text))
    op.execute(port.update().values(extra_dhcp_opts='[]'))
    with op.batch_alter_table('network_port', schema=None) as batch_op:
        batch_op.alter_column('extra_dhcp_opts', existing_type=pocketstack.common.db.base.JSONText(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('network_port', schema=None) as batch_op:
        batch_op.drop_column('extra_dhcp_opts')
