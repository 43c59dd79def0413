"""identity state generation

Revision ID: 9e97d455878c
Revises: 2d745ca08720
Create Date: 2026-11-23 11:21:57.174624
"""

import sqlalchemy as sa
from alembic import op


revision = '9e97d455878c'
down_revision = '2d745ca08720'
branch_labels = None
depends_on = None


def upgrade() -> None:
    state = op.create_table('identity_state',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('generation', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_state'))
    )
    op.bulk_insert(state, [{"id": 1, "generation": 0}])


def downgrade() -> None:
    op.drop_table('identity_state')
