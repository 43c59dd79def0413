"""identity endpoint policies (OS-ENDPOINT-POLICY)

Revision ID: d81f5a3c6e27
Revises: fbc7f7043be3
Create Date: 2026-12-07 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = 'd81f5a3c6e27'
down_revision = 'fbc7f7043be3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('identity_policy_association',
    sa.Column('endpoint_id', sa.String(length=64), nullable=False),
    sa.Column('service_id', sa.String(length=64), nullable=False),
    sa.Column('region_id', sa.String(length=255), nullable=False),
    sa.Column('policy_id', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('endpoint_id', 'service_id', 'region_id', name=op.f('pk_identity_policy_association'))
    )
    op.create_index(op.f('ix_identity_policy_association_policy_id'), 'identity_policy_association', ['policy_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_identity_policy_association_policy_id'), table_name='identity_policy_association')
    op.drop_table('identity_policy_association')
