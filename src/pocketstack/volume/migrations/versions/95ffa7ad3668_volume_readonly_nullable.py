"""volume readonly nullable: Cinder's ``readonly`` admin metadata is absent until
``os-update_readonly_flag`` sets it, then shows "True" or "False"

Revision ID: 95ffa7ad3668
Revises: 039fc656f0cc
Create Date: 2026-12-06 10:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '95ffa7ad3668'
down_revision = '039fc656f0cc'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('volume_volume', schema=None) as batch_op:
        batch_op.alter_column('readonly', existing_type=sa.Boolean(), nullable=True)
    # Until now false was shown as no key at all: keep showing exactly that.
    op.execute(sa.text("UPDATE volume_volume SET readonly = NULL WHERE readonly = :false").bindparams(false=False))


def downgrade() -> None:
    op.execute(sa.text("UPDATE volume_volume SET readonly = :false WHERE readonly IS NULL").bindparams(false=False))
    with op.batch_alter_table('volume_volume', schema=None) as batch_op:
        batch_op.alter_column('readonly', existing_type=sa.Boolean(), nullable=False)
