"""image stores: the named stores holding a copy of an image's data

Null for images of a single-store site (and for images without data).

Revision ID: e41b7c2d9a05
Revises: a3c9e1f04b6d
Create Date: 2026-12-07 19:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = 'e41b7c2d9a05'
down_revision = 'a3c9e1f04b6d'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('image_image', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stores', sa.String(length=1024), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('image_image', schema=None) as batch_op:
        batch_op.drop_column('stores')
