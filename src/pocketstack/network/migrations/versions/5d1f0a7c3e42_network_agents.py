"""network agents

Revision ID: 5d1f0a7c3e42
Revises: 2caf4a231ab9
Create Date: 2026-11-23 15:25:00.000000
"""

import sqlalchemy as sa
from alembic import op

import pocketstack.common.db.base

revision = '5d1f0a7c3e42'
down_revision = '2caf4a231ab9'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('network_agent',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('agent_type', sa.String(length=64), nullable=False),
    sa.Column('binary', sa.String(length=64), nullable=False),
    sa.Column('topic', sa.String(length=64), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('admin_state_up', sa.Boolean(), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=False),
    sa.Column('configurations', pocketstack.common.db.base.JSONText(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('heartbeat_timestamp', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_agent')),
    sa.UniqueConstraint('agent_type', 'host', name=op.f('uq_network_agent_agent_type_host')),
    )


def downgrade() -> None:
    op.drop_table('network_agent')
