"""ha notification actor: the HA process that took a recovery's last step

Revision ID: e0c3edee62bf
Revises: 21f6125e2f8c
Create Date: 2026-12-07 09:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = 'e0c3edee62bf'
down_revision = '21f6125e2f8c'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ha_notification") as batch:
        batch.add_column(sa.Column("actor", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ha_notification") as batch:
        batch.drop_column("actor")
