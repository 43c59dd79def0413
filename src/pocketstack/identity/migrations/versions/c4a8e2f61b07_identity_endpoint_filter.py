"""identity endpoint filter (OS-EP-FILTER)

Revision ID: c4a8e2f61b07
Revises: 7b3e91c4d2a8
Create Date: 2026-12-06 22:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

from pocketstack.common.db.base import JSONText

revision = 'c4a8e2f61b07'
down_revision = '7b3e91c4d2a8'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('identity_endpoint_group',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('filters', JSONText(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_endpoint_group'))
    )
    op.create_table('identity_project_endpoint',
    sa.Column('endpoint_id', sa.String(length=64), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('endpoint_id', 'project_id', name=op.f('pk_identity_project_endpoint'))
    )
    op.create_index(op.f('ix_identity_project_endpoint_project_id'), 'identity_project_endpoint', ['project_id'])
    op.create_table('identity_project_endpoint_group',
    sa.Column('endpoint_group_id', sa.String(length=64), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('endpoint_group_id', 'project_id', name=op.f('pk_identity_project_endpoint_group'))
    )
    op.create_index(op.f('ix_identity_project_endpoint_group_project_id'), 'identity_project_endpoint_group',
                    ['project_id'])


def downgrade() -> None:
    op.drop_table('identity_project_endpoint_group')
    op.drop_table('identity_project_endpoint')
    op.drop_table('identity_endpoint_group')
