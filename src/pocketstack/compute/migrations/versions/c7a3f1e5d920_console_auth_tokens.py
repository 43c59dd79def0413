"""console auth tokens (remote consoles through the noVNC proxy)

Revision ID: c7a3f1e5d920
Revises: 8d2e41f0b7c5
Create Date: 2026-12-06 12:40:00.000000
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = 'c7a3f1e5d920'
down_revision = '8d2e41f0b7c5'
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table('compute_console_auth_token',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('token_hash', sa.String(length=64), nullable=False),
                    sa.Column('console_type', sa.String(length=32), nullable=False),
                    sa.Column('host', sa.String(length=255), nullable=False),
                    sa.Column('port', sa.Integer(), nullable=False),
                    sa.Column('internal_access_path', sa.String(length=255), nullable=True),
                    sa.Column('access_url_base', sa.String(length=2048), nullable=False),
                    sa.Column('instance_uuid', sa.String(length=36), nullable=False),
                    sa.Column('compute_host', sa.String(length=255), nullable=False),
                    sa.Column('expires', sa.Integer(), nullable=False),
                    sa.Column('created_at', TIMESTAMP, nullable=False),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_compute_console_auth_token')),
                    sa.UniqueConstraint('token_hash', name=op.f('uq_compute_console_auth_token_token_hash')))
    op.create_index(op.f('ix_compute_console_auth_token_instance_uuid'), 'compute_console_auth_token',
                    ['instance_uuid'])
    op.create_index(op.f('ix_compute_console_auth_token_expires'), 'compute_console_auth_token', ['expires'])


def downgrade() -> None:
    op.drop_index(op.f('ix_compute_console_auth_token_expires'), table_name='compute_console_auth_token')
    op.drop_index(op.f('ix_compute_console_auth_token_instance_uuid'), table_name='compute_console_auth_token')
    op.drop_table('compute_console_auth_token')
