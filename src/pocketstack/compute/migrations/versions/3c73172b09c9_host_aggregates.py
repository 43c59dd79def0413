"""host aggregates

Revision ID: 3c73172b09c9
Revises: ebf86c8c0994
Create Date: 2026-11-23 14:05:00.000000
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = '3c73172b09c9'
down_revision = 'ebf86c8c0994'
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table('compute_aggregate',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('uuid', sa.String(length=36), nullable=False),
                    sa.Column('name', sa.String(length=255), nullable=False),
                    sa.Column('created_at', TIMESTAMP, nullable=False),
                    sa.Column('updated_at', TIMESTAMP, nullable=True),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_compute_aggregate')),
                    sa.UniqueConstraint('name', name=op.f('uq_compute_aggregate_name')),
                    sa.UniqueConstraint('uuid', name=op.f('uq_compute_aggregate_uuid')))
    op.create_table('compute_aggregate_host',
                    sa.Column('aggregate_id', sa.Integer(), nullable=False),
                    sa.Column('host', sa.String(length=255), nullable=False),
                    sa.ForeignKeyConstraint(['aggregate_id'], ['compute_aggregate.id'],
                                            name=op.f('fk_compute_aggregate_host_aggregate_id_compute_aggregate'),
                                            ondelete='CASCADE'),
                    sa.PrimaryKeyConstraint('aggregate_id', 'host', name=op.f('pk_compute_aggregate_host')))
    op.create_index(op.f('ix_compute_aggregate_host_host'), 'compute_aggregate_host', ['host'], unique=False)
    op.create_table('compute_aggregate_metadata',
                    sa.Column('aggregate_id', sa.Integer(), nullable=False),
                    sa.Column('key', sa.String(length=255), nullable=False),
                    sa.Column('value', sa.String(length=255), nullable=False),
                    sa.ForeignKeyConstraint(['aggregate_id'], ['compute_aggregate.id'],
                                            name=op.f('fk_compute_aggregate_metadata_aggregate_id_compute_aggregate'),
                                            ondelete='CASCADE'),
                    sa.PrimaryKeyConstraint('aggregate_id', 'key', name=op.f('pk_compute_aggregate_metadata')))


def downgrade() -> None:
    op.drop_table('compute_aggregate_metadata')
    op.drop_index(op.f('ix_compute_aggregate_host_host'), table_name='compute_aggregate_host')
    op.drop_table('compute_aggregate_host')
    op.drop_table('compute_aggregate')
