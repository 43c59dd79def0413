"""fault injection rules

Revision ID: 3f6a1c9d2b70
Revises:
Create Date: 2026-12-06 18:50:00
"""

import sqlalchemy as sa
from alembic import op

import pocketstack.common.db.base

revision = '3f6a1c9d2b70'
down_revision = None
branch_labels = ('faults',)
depends_on = None


def upgrade() -> None:
    op.create_table('faults_rule',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('spec', pocketstack.common.db.base.JSONText(), nullable=False),
    sa.Column('remaining', sa.Integer(), nullable=True),
    sa.Column('fired', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_faults_rule'))
    )
    generation = op.create_table('faults_generation',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_faults_generation'))
    )
    op.bulk_insert(generation, [{'id': 1, 'generation': 0}])


def downgrade() -> None:
    op.drop_table('faults_generation')
    op.drop_table('faults_rule')
