"""volume migration_status: a volume moving to another backend (Cinder's column)

Revision ID: b7c1d2e3f4a5
Revises: d1a5e0c7b351
Create Date: 2026-12-07 19:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = 'b7c1d2e3f4a5'
down_revision = 'd1a5e0c7b351'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('volume_volume', schema=None) as batch_op:
        batch_op.add_column(sa.Column('migration_status', sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('volume_volume', schema=None) as batch_op:
        batch_op.drop_column('migration_status')
