"""auto disk config: whether a server's root disk is to be partitioned automatically
(``OS-DCF:diskConfig`` AUTO) or left as the image has it (MANUAL)

Revision ID: e5d2a9c04b17
Revises: b84d1e6c3a52
Create Date: 2026-12-07 19:20:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = 'e5d2a9c04b17'
down_revision = 'b84d1e6c3a52'
branch_labels = None
depends_on = None

TABLES = ("compute_instance", "compute_deleted_instance")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("auto_disk_config", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    for table in TABLES:
        op.drop_column(table, "auto_disk_config")
