"""stacks hold a trust instead of a token

A stack from before keeps no credential: its next update, delete or action delegates a
trust from the user who asks (docs/orchestration.md).

Revision ID: 7fe39da8322d
Revises: 2c49b7d5a8da
Create Date: 2026-12-07 05:53:07.001696
"""

import sqlalchemy as sa
from alembic import op

revision = '7fe39da8322d'
down_revision = '2c49b7d5a8da'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('orchestration_stack', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trust_id', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_orchestration_stack_trust_id'), ['trust_id'], unique=False)
        batch_op.drop_column('credential')


def downgrade() -> None:
    with op.batch_alter_table('orchestration_stack', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credential', sa.TEXT(), nullable=True))
        batch_op.drop_index(batch_op.f('ix_orchestration_stack_trust_id'))
        batch_op.drop_column('trust_id')
