"""identity unified limits

Revision ID: 7b3e91c4d2a8
Revises: 7a3c9e51d2b4
Create Date: 2026-12-06 22:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '7b3e91c4d2a8'
down_revision = '7a3c9e51d2b4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('identity_registered_limit',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('service_id', sa.String(length=64), nullable=False),
    sa.Column('region_id', sa.String(length=255), nullable=True),
    sa.Column('resource_name', sa.String(length=255), nullable=False),
    sa.Column('default_limit', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_registered_limit'))
    )
    op.create_index(op.f('ix_identity_registered_limit_service_id'), 'identity_registered_limit', ['service_id'])
    op.create_index(op.f('ix_identity_registered_limit_region_id'), 'identity_registered_limit', ['region_id'])
    op.create_table('identity_limit',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('registered_limit_id', sa.String(length=64), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=True),
    sa.Column('domain_id', sa.String(length=64), nullable=True),
    sa.Column('resource_limit', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['registered_limit_id'], ['identity_registered_limit.id'],
                            name=op.f('fk_identity_limit_registered_limit_id_identity_registered_limit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_limit'))
    )
    op.create_index(op.f('ix_identity_limit_registered_limit_id'), 'identity_limit', ['registered_limit_id'])
    op.create_index(op.f('ix_identity_limit_project_id'), 'identity_limit', ['project_id'])
    op.create_index(op.f('ix_identity_limit_domain_id'), 'identity_limit', ['domain_id'])


def downgrade() -> None:
    op.drop_table('identity_limit')
    op.drop_table('identity_registered_limit')
