"""address scopes and network RBAC policies

Revision ID: 4f7a2c9e1b63
Revises: 9c4e7b2a1d58
Create Date: 2026-12-06 22:30:00.000000

Networks shared or external before RBAC get the wildcard policies Neutron would have
made for them (``*`` ``access_as_shared`` / ``access_as_external``, owned by the
network's project): visibility now comes from these rows alone.
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = '4f7a2c9e1b63'
down_revision = '9c4e7b2a1d58'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('network_address_scope',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.Column('ip_version', sa.Integer(), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_address_scope')),
    )
    with op.batch_alter_table('network_address_scope', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_address_scope_project_id'), ['project_id'], unique=False)
    with op.batch_alter_table('network_subnetpool', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address_scope_id', sa.String(length=36), nullable=True))
        batch_op.create_index(batch_op.f('ix_network_subnetpool_address_scope_id'), ['address_scope_id'],
                              unique=False)
    rbac = op.create_table('network_rbac_policy',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=False),
    sa.Column('object_id', sa.String(length=36), nullable=False),
    sa.Column('action', sa.String(length=255), nullable=False),
    sa.Column('target_tenant', sa.String(length=255), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['object_id'], ['network_network.id'],
                            name=op.f('fk_network_rbac_policy_object_id_network_network'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_rbac_policy')),
    sa.UniqueConstraint('target_tenant', 'object_id', 'action',
                        name=op.f('uq_network_rbac_policy_target_tenant_object_id_action')),
    )
    with op.batch_alter_table('network_rbac_policy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_rbac_policy_object_id'), ['object_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_network_rbac_policy_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_network_rbac_policy_target_tenant'), ['target_tenant'], unique=False)
    network = sa.table('network_network', sa.column('id', sa.String), sa.column('project_id', sa.String),
                       sa.column('shared', sa.Boolean), sa.column('external', sa.Boolean))
    bind = op.get_bind()
    rows = []
    for net_id, project_id, shared, external in bind.execute(
            sa.select(network.c.id, network.c.project_id, network.c.shared, network.c.external)):
        for flag, action in ((shared, 'access_as_shared'), (external, 'access_as_external')):
            if flag:
                rows.append({'id': str(uuid.uuid4()), 'project_id': project_id, 'object_type': 'network',
                             'object_id': net_id, 'action': action, 'target_tenant': '*', 'generation': 0})
    if rows:
        op.bulk_insert(rbac, rows)


def downgrade() -> None:
    op.drop_table('network_rbac_policy')
    with op.batch_alter_table('network_subnetpool', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_network_subnetpool_address_scope_id'))
        batch_op.drop_column('address_scope_id')
    op.drop_table('network_address_scope')
