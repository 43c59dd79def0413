"""device tags of volumes and ports (microversion 2.70), servers' locked_reason (2.73) and requested_host (2.74)

Revision ID: 4e7b9c2a1d58
Revises: 9a4d2c7e1b30
Create Date: 2026-12-07 06:55:00
"""

import sqlalchemy as sa
from alembic import op

revision = '4e7b9c2a1d58'
down_revision = '9a4d2c7e1b30'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('compute_block_device_mapping', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tag', sa.String(length=60), nullable=True))
    op.create_table('compute_port_tag',
    sa.Column('instance_id', sa.String(length=36), nullable=False),
    sa.Column('port_id', sa.String(length=36), nullable=False),
    sa.Column('tag', sa.String(length=60), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['compute_instance.id'], name=op.f('fk_compute_port_tag_instance_id_compute_instance'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('instance_id', 'port_id', name=op.f('pk_compute_port_tag'))
    )
    for table in ('compute_instance', 'compute_deleted_instance'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('locked_reason', sa.String(length=255), nullable=True))
            batch_op.add_column(sa.Column('requested_host', sa.String(length=255), nullable=True))


def downgrade() -> None:
    for table in ('compute_deleted_instance', 'compute_instance'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('requested_host')
            batch_op.drop_column('locked_reason')
    op.drop_table('compute_port_tag')
    with op.batch_alter_table('compute_block_device_mapping', schema=None) as batch_op:
        batch_op.drop_column('tag')
