"""routers and DHCP networks scheduled on network agents

Revision ID: 9c4e7b2a1d58
Revises: 6a1d4e8f2c73
Create Date: 2026-12-06 16:00:00.000000

Existing routers and networks start unscheduled: the next interface, gateway or DHCP
subnet change schedules them (or the operator, with the l3-routers / dhcp-networks API).
"""

import sqlalchemy as sa
from alembic import op

revision = '9c4e7b2a1d58'
down_revision = '6a1d4e8f2c73'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('network_router_l3_agent',
    sa.Column('router_id', sa.String(length=36), nullable=False),
    sa.Column('agent_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['network_agent.id'],
                            name=op.f('fk_network_router_l3_agent_agent_id_network_agent'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['router_id'], ['network_router.id'],
                            name=op.f('fk_network_router_l3_agent_router_id_network_router'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('router_id', name=op.f('pk_network_router_l3_agent')),
    )
    with op.batch_alter_table('network_router_l3_agent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_router_l3_agent_agent_id'), ['agent_id'], unique=False)
    op.create_table('network_dhcp_agent',
    sa.Column('network_id', sa.String(length=36), nullable=False),
    sa.Column('agent_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['network_agent.id'],
                            name=op.f('fk_network_dhcp_agent_agent_id_network_agent'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['network_id'], ['network_network.id'],
                            name=op.f('fk_network_dhcp_agent_network_id_network_network'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('network_id', name=op.f('pk_network_dhcp_agent')),
    )
    with op.batch_alter_table('network_dhcp_agent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_dhcp_agent_agent_id'), ['agent_id'], unique=False)


def downgrade() -> None:
    op.drop_table('network_dhcp_agent')
    op.drop_table('network_router_l3_agent')
