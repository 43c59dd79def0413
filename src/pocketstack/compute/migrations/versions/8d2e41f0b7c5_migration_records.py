"""migration records (os-migrations)

Revision ID: 8d2e41f0b7c5
Revises: d41c7e9a2b06
Create Date: 2026-11-23 14:10:00.000000
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = '8d2e41f0b7c5'
down_revision = 'd41c7e9a2b06'
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table('compute_migration',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('uuid', sa.String(length=36), nullable=False),
                    sa.Column('instance_uuid', sa.String(length=36), nullable=False),
                    sa.Column('project_id', sa.String(length=64), nullable=False),
                    sa.Column('user_id', sa.String(length=64), nullable=False),
                    sa.Column('migration_type', sa.String(length=16), nullable=False),
                    sa.Column('source_compute', sa.String(length=255), nullable=True),
                    sa.Column('dest_compute', sa.String(length=255), nullable=True),
                    sa.Column('old_flavor_id', sa.String(length=255), nullable=False),
                    sa.Column('new_flavor_id', sa.String(length=255), nullable=False),
                    sa.Column('status', sa.String(length=32), nullable=False),
                    sa.Column('created_at', TIMESTAMP, nullable=False),
                    sa.Column('updated_at', TIMESTAMP, nullable=True),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_compute_migration')),
                    sa.UniqueConstraint('uuid', name=op.f('uq_compute_migration_uuid')))
    op.create_index(op.f('ix_compute_migration_instance_uuid'), 'compute_migration', ['instance_uuid'])
    op.create_index(op.f('ix_compute_migration_project_id'), 'compute_migration', ['project_id'])
    op.create_index(op.f('ix_compute_migration_created_at'), 'compute_migration', ['created_at'])


def downgrade() -> None:
    op.drop_index(op.f('ix_compute_migration_created_at'), table_name='compute_migration')
    op.drop_index(op.f('ix_compute_migration_project_id'), table_name='compute_migration')
    op.drop_index(op.f('ix_compute_migration_instance_uuid'), table_name='compute_migration')
    op.drop_table('compute_migration')
