"""QoS policies, their rules, per-project defaults and their bindings to networks and ports

Revision ID: 7e2b5c9d1f36
Revises: 7e2b5c9d4a16
Create Date: 2026-12-07 03:00:00.000000

Networks and ports get a plain ``qos_policy_id`` column, no foreign key: adding one would
make SQLite's batch mode rebuild ``network_network``, and dropping the old table would
cascade to the RBAC policies that reference it.  Binding a policy bumps its
``generation`` instead, which a delete of the policy checks (network/qos.py).
"""

import sqlalchemy as sa
from alembic import op

revision = '7e2b5c9d1f36'
down_revision = '7e2b5c9d4a16'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('network_qos_policy',
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('revision_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_qos_policy')),
    )
    with op.batch_alter_table('network_qos_policy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_qos_policy_project_id'), ['project_id'], unique=False)
    op.create_table('network_qos_default_policy',
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('qos_policy_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['qos_policy_id'], ['network_qos_policy.id'],
                            name=op.f('fk_network_qos_default_policy_qos_policy_id_network_qos_policy'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', name=op.f('pk_network_qos_default_policy')),
    )
    with op.batch_alter_table('network_qos_default_policy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_qos_default_policy_qos_policy_id'), ['qos_policy_id'],
                              unique=False)
    op.create_table('network_qos_rule',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('qos_policy_id', sa.String(length=36), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('direction', sa.String(length=16), nullable=False),
    sa.Column('max_kbps', sa.Integer(), nullable=True),
    sa.Column('max_burst_kbps', sa.Integer(), nullable=True),
    sa.Column('min_kbps', sa.Integer(), nullable=True),
    sa.Column('dscp_mark', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['qos_policy_id'], ['network_qos_policy.id'],
                            name=op.f('fk_network_qos_rule_qos_policy_id_network_qos_policy'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_qos_rule')),
    sa.UniqueConstraint('qos_policy_id', 'type', 'direction',
                        name=op.f('uq_network_qos_rule_qos_policy_id_type_direction')),
    )
    with op.batch_alter_table('network_qos_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_qos_rule_qos_policy_id'), ['qos_policy_id'], unique=False)
    for table in ('network_network', 'network_port'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('qos_policy_id', sa.String(length=36), nullable=True))
            batch_op.create_index(batch_op.f(f'ix_{table}_qos_policy_id'), ['qos_policy_id'], unique=False)


def downgrade() -> None:
    for table in ('network_port', 'network_network'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{table}_qos_policy_id'))
            batch_op.drop_column('qos_policy_id')
    op.drop_table('network_qos_rule')
    op.drop_table('network_qos_default_policy')
    op.drop_table('network_qos_policy')
