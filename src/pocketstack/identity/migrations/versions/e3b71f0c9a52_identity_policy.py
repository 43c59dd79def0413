"""identity policy blobs (/v3/policies)

Revision ID: e3b71f0c9a52
Revises: c4a8e2f61b07
Create Date: 2026-12-07 06:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

from pocketstack.common.db.base import JSONText

revision = 'e3b71f0c9a52'
down_revision = 'c4a8e2f61b07'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('identity_policy',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=255), nullable=False),
    sa.Column('blob', sa.Text(), nullable=False),
    sa.Column('extra', JSONText(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_policy'))
    )


def downgrade() -> None:
    op.drop_table('identity_policy')
