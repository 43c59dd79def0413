"""ports record the instance compute bound them to

Revision ID: 8b3d6f1e0a27
Revises: 5d1f0a7c3e42
Create Date: 2026-11-24 10:00:00.000000

Existing compute ports (``device_owner`` ``compute:*``) count as bound to the instance
their ``device_id`` names, which is what servers showed before.
"""

import sqlalchemy as sa
from alembic import op

revision = '8b3d6f1e0a27'
down_revision = '5d1f0a7c3e42'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('network_port', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bound_instance_id', sa.String(length=255), nullable=True))
        batch_op.create_index(batch_op.f('ix_network_port_bound_instance_id'), ['bound_instance_id'], unique=False)
    port = sa.table('network_port', sa.column('device_id', sa.String), sa.column('device_owner', sa.String),
                    sa.column('bound_instance_id', sa.String))
    op.execute(port.update().where(port.c.device_owner.like('compute:%'), port.c.device_id != '')
               .values(bound_instance_id=port.c.device_id))


def downgrade() -> None:
    with op.batch_alter_table('network_port', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_network_port_bound_instance_id'))
        batch_op.drop_column('bound_instance_id')
