"""shelved servers: what a shelved server keeps (its snapshot image, when it was shelved)

Revision ID: 5b0c6e1f4a27
Revises: 3232374e82fb
Create Date: 2026-12-06 16:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

import pocketstack.common.db.base

revision = '5b0c6e1f4a27'
down_revision = '3232374e82fb'
branch_labels = None
depends_on = None

TABLES = ("compute_instance", "compute_deleted_instance")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("shelved", pocketstack.common.db.base.JSONText(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        op.drop_column(table, "shelved")
