"""volume backup container

Revision ID: 3b7e2c9d41a5
Revises: 653f6dd68edf
Create Date: 2026-11-23 15:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '3b7e2c9d41a5'
down_revision = '653f6dd68edf'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('volume_backup') as batch_op:
        batch_op.add_column(sa.Column('container', sa.String(length=255), nullable=False,
                                      server_default='volumebackups'))


def downgrade() -> None:
    with op.batch_alter_table('volume_backup') as batch_op:
        batch_op.drop_column('container')
