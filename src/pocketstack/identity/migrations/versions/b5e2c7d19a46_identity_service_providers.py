"""identity service providers (OS-FEDERATION, Keystone to Keystone)

Revision ID: b5e2c7d19a46
Revises: 5e0c7b2a9d41
Create Date: 2026-12-07 16:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = 'b5e2c7d19a46'
down_revision = '5e0c7b2a9d41'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('identity_service_provider',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('auth_url', sa.String(length=256), nullable=False),
    sa.Column('sp_url', sa.String(length=256), nullable=False),
    sa.Column('relay_state_prefix', sa.String(length=256), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_service_provider'))
    )


def downgrade() -> None:
    op.drop_table('identity_service_provider')
