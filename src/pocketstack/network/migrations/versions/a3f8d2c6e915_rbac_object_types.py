"""RBAC policies on QoS policies, security groups, address scopes and subnet pools

Revision ID: a3f8d2c6e915
Revises: 7e2b5c9d1f36
Create Date: 2026-12-07 06:45:00.000000

``object_id`` loses its foreign key to networks (it now names an object of any type);
one nullable column per object type carries the foreign key instead, with the cascade
that deletes an object's policies with it.  The existing (network) policies get their
``network_id``.  Only this table is rebuilt by SQLite's batch mode: nothing references it.

QoS policies, address scopes and subnet pools shared before get the wildcard policy
Neutron would have made for them (``*`` ``access_as_shared``, owned by the object's
project): who sees them now comes from these rows alone.
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = 'a3f8d2c6e915'
down_revision = '7e2b5c9d1f36'
branch_labels = None
depends_on = None

# column -> the table it references
_TYPED = (('network_id', 'network_network'), ('qos_policy_id', 'network_qos_policy'),
          ('security_group_id', 'network_security_group'), ('address_scope_id', 'network_address_scope'),
          ('subnetpool_id', 'network_subnetpool'))


def upgrade() -> None:
    with op.batch_alter_table('network_rbac_policy', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_network_rbac_policy_object_id_network_network'), type_='foreignkey')
        for column, table in _TYPED:
            batch_op.add_column(sa.Column(column, sa.String(length=36), nullable=True))
            batch_op.create_foreign_key(batch_op.f(f'fk_network_rbac_policy_{column}_{table}'), table,
                                        [column], ['id'], ondelete='CASCADE')
            batch_op.create_index(batch_op.f(f'ix_network_rbac_policy_{column}'), [column], unique=False)
    rbac = sa.table('network_rbac_policy', sa.column('object_id', sa.String), sa.column('network_id', sa.String))
    op.execute(rbac.update().values(network_id=rbac.c.object_id))
    columns = ('id', 'project_id', 'object_type', 'object_id', 'action', 'target_tenant', 'generation',
               'qos_policy_id', 'address_scope_id', 'subnetpool_id')
    full = sa.table('network_rbac_policy', *(sa.column(c) for c in columns))
    bind = op.get_bind()
    rows = []
    for object_type, table, column in (('qos_policy', 'network_qos_policy', 'qos_policy_id'),
                                       ('address_scope', 'network_address_scope', 'address_scope_id'),
                                       ('subnetpool', 'network_subnetpool', 'subnetpool_id')):
        objects = sa.table(table, sa.column('id', sa.String), sa.column('project_id', sa.String),
                           sa.column('shared', sa.Boolean))
        for object_id, project_id in bind.execute(sa.select(objects.c.id, objects.c.project_id)
                                                  .where(objects.c.shared.is_(True))):
            rows.append({'id': str(uuid.uuid4()), 'project_id': project_id, 'object_type': object_type,
                         'object_id': object_id, 'action': 'access_as_shared', 'target_tenant': '*',
                         'generation': 0, 'qos_policy_id': None, 'address_scope_id': None,
                         'subnetpool_id': None, column: object_id})
    if rows:
        op.bulk_insert(full, rows)


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM network_rbac_policy WHERE object_type != 'network'"))
    with op.batch_alter_table('network_rbac_policy', schema=None) as batch_op:
        for column, table in _TYPED:
            batch_op.drop_index(batch_op.f(f'ix_network_rbac_policy_{column}'))
            batch_op.drop_constraint(batch_op.f(f'fk_network_rbac_policy_{column}_{table}'), type_='foreignkey')
            batch_op.drop_column(column)
        batch_op.create_foreign_key(batch_op.f('fk_network_rbac_policy_object_id_network_network'),
                                    'network_network', ['object_id'], ['id'], ondelete='CASCADE')
