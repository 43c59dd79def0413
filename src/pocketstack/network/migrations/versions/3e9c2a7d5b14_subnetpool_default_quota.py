"""subnet pools store their default_quota

Revision ID: 3e9c2a7d5b14
Revises: 8b3d6f1e0a27
Create Date: 2026-12-06 13:30:00.000000

Neutron's per-project limit on what subnets may draw from a pool (addresses for IPv4,
/64s for IPv6); no limit (NULL) for existing pools, as before.
"""

import sqlalchemy as sa
from alembic import op

revision = '3e9c2a7d5b14'
down_revision = '8b3d6f1e0a27'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('network_subnetpool', schema=None) as batch_op:
        batch_op.add_column(sa.Column('default_quota', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('network_subnetpool', schema=None) as batch_op:
        batch_op.drop_column('default_quota')
