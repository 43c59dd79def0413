"""volume snapshot progress: what os-update_snapshot_status reports (Cinder's column)

Revision ID: 5878c917e64d
Revises: ef95e372a078
Create Date: 2026-12-06 10:50:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '5878c917e64d'
down_revision = 'ef95e372a078'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('volume_snapshot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('progress', sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('volume_snapshot', schema=None) as batch_op:
        batch_op.drop_column('progress')
