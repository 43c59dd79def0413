"""volume microversions 3.45+: a backup's availability zone (3.51), a transfer without snapshots (3.55),
projects' default volume types (3.62)

Revision ID: d1a5e0c7b351
Revises: c52ae3972a3e
Create Date: 2026-12-06 19:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = 'd1a5e0c7b351'
down_revision = 'c52ae3972a3e'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('volume_backup', schema=None) as batch_op:
        batch_op.add_column(sa.Column('availability_zone', sa.String(length=255), nullable=True))
    with op.batch_alter_table('volume_transfer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('no_snapshots', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        'volume_default_type',
        sa.Column('project_id', sa.String(length=64), nullable=False),
        sa.Column('volume_type_id', sa.String(length=36), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['volume_type_id'], ['volume_type.id'], ),
        sa.PrimaryKeyConstraint('project_id'),
    )
    with op.batch_alter_table('volume_default_type', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_volume_default_type_volume_type_id'), ['volume_type_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('volume_default_type', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_volume_default_type_volume_type_id'))
    op.drop_table('volume_default_type')
    with op.batch_alter_table('volume_transfer', schema=None) as batch_op:
        batch_op.drop_column('no_snapshots')
    with op.batch_alter_table('volume_backup', schema=None) as batch_op:
        batch_op.drop_column('availability_zone')
