"""instance action events' details (microversion 2.84)

Revision ID: b84d1e6c3a52
Revises: 4e7b9c2a1d58
Create Date: 2026-12-07 09:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'b84d1e6c3a52'
down_revision = '4e7b9c2a1d58'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('compute_instance_action_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('details', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('compute_instance_action_event', schema=None) as batch_op:
        batch_op.drop_column('details')
