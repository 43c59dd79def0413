"""Address groups, their RBAC policies and security group rules naming one as remote

Revision ID: b7c1e4f9a2d3
Revises: a3f8d2c6e915
Create Date: 2026-12-07 09:10:00.000000

``network_rbac_policy`` gets the ``address_group_id`` column of its new object type (with
the cascade that deletes a group's policies with it; SQLite's batch mode rebuilds only
that table, which nothing references).  ``network_security_group_rule`` gets a plain
``remote_address_group_id`` column, indexed (a group in use is looked up by it).
"""

import sqlalchemy as sa
from alembic import op

revision = 'b7c1e4f9a2d3'
down_revision = 'a3f8d2c6e915'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('network_address_group',
    sa.Column('addresses', sa.Text(), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('revision_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_address_group')),
    )
    with op.batch_alter_table('network_address_group', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_address_group_project_id'), ['project_id'], unique=False)
    with op.batch_alter_table('network_rbac_policy', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address_group_id', sa.String(length=36), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_network_rbac_policy_address_group_id_network_address_group'),
                                    'network_address_group', ['address_group_id'], ['id'], ondelete='CASCADE')
        batch_op.create_index(batch_op.f('ix_network_rbac_policy_address_group_id'), ['address_group_id'],
                              unique=False)
    with op.batch_alter_table('network_security_group_rule', schema=None) as batch_op:
        batch_op.add_column(sa.Column('remote_address_group_id', sa.String(length=36), nullable=True))
        batch_op.create_index(batch_op.f('ix_network_security_group_rule_remote_address_group_id'),
                              ['remote_address_group_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('network_security_group_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_network_security_group_rule_remote_address_group_id'))
        batch_op.drop_column('remote_address_group_id')
    op.execute(sa.text("DELETE FROM network_rbac_policy WHERE object_type = 'address_group'"))
    with op.batch_alter_table('network_rbac_policy', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_network_rbac_policy_address_group_id'))
        batch_op.drop_constraint(batch_op.f('fk_network_rbac_policy_address_group_id_network_address_group'),
                                 type_='foreignkey')
        batch_op.drop_column('address_group_id')
    op.drop_table('network_address_group')
