"""orchestration nested stacks: a stack's parent stack, owning resource and depth

Revision ID: 6e2b8d4f1a93
Revises: 7fe39da8322d
Create Date: 2026-12-07 06:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '6e2b8d4f1a93'
down_revision = '7fe39da8322d'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('orchestration_stack', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('owner_resource', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('nested_depth', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_index(batch_op.f('ix_orchestration_stack_owner_id'), ['owner_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('orchestration_stack', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orchestration_stack_owner_id'))
        batch_op.drop_column('nested_depth')
        batch_op.drop_column('owner_resource')
        batch_op.drop_column('owner_id')
