"""Metering labels and their rules; service flavors, service profiles and their bindings

Revision ID: d8a4f1c6e2b9
Revises: c5d2e8a1f4b7
Create Date: 2026-12-07 16:10:00.000000

New tables (Neutron's ``metering`` and ``flavors`` extensions): a label's rules go with
it (cascade), a flavor's bindings with it; a bound service profile is kept by its
binding's foreign key.  ``network_router`` gets ``flavor_id`` (``l3-flavors``), whose
foreign key keeps a flavor a router was made with (SQLite's batch mode rebuilds the
router table).
"""

import sqlalchemy as sa
from alembic import op

revision = 'd8a4f1c6e2b9'
down_revision = 'c5d2e8a1f4b7'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('network_metering_label',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.String(length=1024), nullable=False),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_metering_label')),
    )
    with op.batch_alter_table('network_metering_label', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_metering_label_project_id'), ['project_id'], unique=False)
    op.create_table('network_metering_label_rule',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('metering_label_id', sa.String(length=36), nullable=False),
    sa.Column('direction', sa.String(length=16), nullable=False),
    sa.Column('remote_ip_prefix', sa.String(length=64), nullable=True),
    sa.Column('source_ip_prefix', sa.String(length=64), nullable=True),
    sa.Column('destination_ip_prefix', sa.String(length=64), nullable=True),
    sa.Column('excluded', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['metering_label_id'], ['network_metering_label.id'],
                            name='fk_network_metering_rule_label', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_metering_label_rule')),
    )
    with op.batch_alter_table('network_metering_label_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_metering_label_rule_metering_label_id'), ['metering_label_id'],
                              unique=False)
    op.create_table('network_flavor',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.String(length=1024), nullable=True),
    sa.Column('service_type', sa.String(length=36), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_flavor')),
    )
    op.create_table('network_service_profile',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('description', sa.String(length=1024), nullable=True),
    sa.Column('driver', sa.String(length=1024), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('metainfo', sa.String(length=4096), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_service_profile')),
    )
    op.create_table('network_flavor_service_profile',
    sa.Column('flavor_id', sa.String(length=36), nullable=False),
    sa.Column('service_profile_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['flavor_id'], ['network_flavor.id'],
                            name=op.f('fk_network_flavor_service_profile_flavor_id_network_flavor'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_profile_id'], ['network_service_profile.id'],
                            name='fk_network_flavor_binding_profile'),
    sa.PrimaryKeyConstraint('flavor_id', 'service_profile_id', name=op.f('pk_network_flavor_service_profile')),
    )
    with op.batch_alter_table('network_flavor_service_profile', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_flavor_service_profile_service_profile_id'),
                              ['service_profile_id'], unique=False)
    with op.batch_alter_table('network_router', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flavor_id', sa.String(length=36), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_network_router_flavor_id_network_flavor'), 'network_flavor',
                                    ['flavor_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('network_router', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_network_router_flavor_id_network_flavor'), type_='foreignkey')
        batch_op.drop_column('flavor_id')
    op.drop_table('network_flavor_service_profile')
    op.drop_table('network_service_profile')
    op.drop_table('network_flavor')
    op.drop_table('network_metering_label_rule')
    op.drop_table('network_metering_label')
