"""injected files, server passwords and boot volume types: a server's personality files
(before microversion 2.57), the password its guest posted to the metadata service, and the
volume type a block device mapping asks for (2.67)

Revision ID: 9a4d2c7e1b30
Revises: 5b0c6e1f4a27
Create Date: 2026-12-06 16:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

import pocketstack.common.db.base

revision = '9a4d2c7e1b30'
down_revision = '5b0c6e1f4a27'
branch_labels = None
depends_on = None

TABLES = ("compute_instance", "compute_deleted_instance")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("injected_files", pocketstack.common.db.base.JSONText(), nullable=True))
        op.add_column(table, sa.Column("password", sa.Text(), nullable=True))
    op.add_column("compute_block_device_mapping", sa.Column("volume_type", sa.String(36), nullable=True))


def downgrade() -> None:
    op.drop_column("compute_block_device_mapping", "volume_type")
    for table in TABLES:
        op.drop_column(table, "password")
        op.drop_column(table, "injected_files")
