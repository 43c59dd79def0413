"""A trunk's status, stored: what the agent reports once it wired the trunk

Revision ID: c5d2e8a1f4b7
Revises: b7c1e4f9a2d3
Create Date: 2026-12-07 09:40:00.000000

``network_trunk`` gets ``status`` (Neutron's ``DOWN``/``BUILD``/``ACTIVE``/``DEGRADED``/
``ERROR``).  It used to be computed from the parent port: the trunks whose parent is bound
and ``ACTIVE`` start ``ACTIVE``, the others ``DOWN``.
"""

import sqlalchemy as sa
from alembic import op

revision = 'c5d2e8a1f4b7'
down_revision = 'b7c1e4f9a2d3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('network_trunk', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=16), nullable=False, server_default='DOWN'))
    trunk = sa.table('network_trunk', sa.column('status'), sa.column('port_id'))
    port = sa.table('network_port', sa.column('id'), sa.column('binding_host_id'), sa.column('status'))
    active = sa.select(port.c.id).where(port.c.binding_host_id != '', port.c.status == 'ACTIVE')
    op.execute(trunk.update().where(trunk.c.port_id.in_(active)).values(status='ACTIVE'))


def downgrade() -> None:
    with op.batch_alter_table('network_trunk', schema=None) as batch_op:
        batch_op.drop_column('status')
