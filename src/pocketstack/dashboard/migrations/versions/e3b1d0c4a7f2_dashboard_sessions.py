"""dashboard sessions (server-side login sessions of the web UI)

Revision ID: e3b1d0c4a7f2
Revises:
Create Date: 2026-12-06 18:50:00.000000
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = 'e3b1d0c4a7f2'
down_revision = None
branch_labels = ('dashboard',)
depends_on = None

TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table('dashboard_session',
                    sa.Column('id_hash', sa.String(length=64), nullable=False),
                    sa.Column('user_id', sa.String(length=64), nullable=False),
                    sa.Column('user_name', sa.String(length=255), nullable=False),
                    sa.Column('domain_name', sa.String(length=255), nullable=False),
                    sa.Column('project_id', sa.String(length=64), nullable=False),
                    sa.Column('project_name', sa.String(length=255), nullable=False),
                    sa.Column('is_admin', sa.Boolean(), nullable=False),
                    sa.Column('rescopable', sa.Boolean(), nullable=False),
                    sa.Column('sealed_token', sa.Text(), nullable=False),
                    sa.Column('csrf', sa.String(length=64), nullable=False),
                    sa.Column('flash', sa.Text(), nullable=True),
                    sa.Column('expires_at', TIMESTAMP, nullable=False),
                    sa.Column('last_seen', TIMESTAMP, nullable=False),
                    sa.Column('created_at', TIMESTAMP, nullable=False),
                    sa.PrimaryKeyConstraint('id_hash', name=op.f('pk_dashboard_session')))
    op.create_index(op.f('ix_dashboard_session_expires_at'), 'dashboard_session', ['expires_at'])


def downgrade() -> None:
    op.drop_index(op.f('ix_dashboard_session_expires_at'), table_name='dashboard_session')
    op.drop_table('dashboard_session')
