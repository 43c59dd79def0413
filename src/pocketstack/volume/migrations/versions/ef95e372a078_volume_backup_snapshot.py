"""volume backup snapshot: a backup taken of a snapshot records it, and the time of its data

Revision ID: ef95e372a078
Revises: 95ffa7ad3668
Create Date: 2026-12-06 10:45:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = 'ef95e372a078'
down_revision = '95ffa7ad3668'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('volume_backup', schema=None) as batch_op:
        batch_op.add_column(sa.Column('snapshot_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('data_timestamp', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_volume_backup_snapshot_id'), ['snapshot_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('volume_backup', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_volume_backup_snapshot_id'))
        batch_op.drop_column('data_timestamp')
        batch_op.drop_column('snapshot_id')
