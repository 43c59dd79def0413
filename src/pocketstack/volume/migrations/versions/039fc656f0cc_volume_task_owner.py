"""volume task owner: the worker running a volume's, snapshot's or backup's *-ing operation

Revision ID: 039fc656f0cc
Revises: 10c0e6a588b0
Create Date: 2026-12-06 05:51:35.400036
"""

import sqlalchemy as sa
from alembic import op

revision = '039fc656f0cc'
down_revision = '10c0e6a588b0'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('volume_backup', schema=None) as batch_op:
        batch_op.add_column(sa.Column('task_owner', sa.String(length=255), nullable=True))
        batch_op.create_index(batch_op.f('ix_volume_backup_task_owner'), ['task_owner'], unique=False)

    with op.batch_alter_table('volume_snapshot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('task_owner', sa.String(length=255), nullable=True))
        batch_op.create_index(batch_op.f('ix_volume_snapshot_task_owner'), ['task_owner'], unique=False)

    with op.batch_alter_table('volume_volume', schema=None) as batch_op:
        batch_op.add_column(sa.Column('task_owner', sa.String(length=255), nullable=True))
        batch_op.create_index(batch_op.f('ix_volume_volume_task_owner'), ['task_owner'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('volume_volume', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_volume_volume_task_owner'))
        batch_op.drop_column('task_owner')

    with op.batch_alter_table('volume_snapshot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_volume_snapshot_task_owner'))
        batch_op.drop_column('task_owner')

    with op.batch_alter_table('volume_backup', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_volume_backup_task_owner'))
        batch_op.drop_column('task_owner')
