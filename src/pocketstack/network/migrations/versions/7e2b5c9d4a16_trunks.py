"""trunks (Neutron's trunk extension)

Revision ID: 7e2b5c9d4a16
Revises: 4f7a2c9e1b63
Create Date: 2026-12-07 02:45:00.000000

A trunk and the ports in it: its parent and its subports, one row per port (the
primary key keeps a port in one trunk at most).
"""

import sqlalchemy as sa
from alembic import op

revision = '7e2b5c9d4a16'
down_revision = '4f7a2c9e1b63'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('network_trunk',
    sa.Column('admin_state_up', sa.Boolean(), nullable=False),
    sa.Column('port_id', sa.String(length=36), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('revision_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_trunk')),
    )
    with op.batch_alter_table('network_trunk', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_trunk_port_id'), ['port_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_network_trunk_project_id'), ['project_id'], unique=False)
    op.create_table('network_trunk_port',
    sa.Column('port_id', sa.String(length=36), nullable=False),
    sa.Column('trunk_id', sa.String(length=36), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('segmentation_type', sa.String(length=32), nullable=True),
    sa.Column('segmentation_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['port_id'], ['network_port.id'],
                            name=op.f('fk_network_trunk_port_port_id_network_port')),
    sa.ForeignKeyConstraint(['trunk_id'], ['network_trunk.id'],
                            name=op.f('fk_network_trunk_port_trunk_id_network_trunk'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('port_id', name=op.f('pk_network_trunk_port')),
    sa.UniqueConstraint('trunk_id', 'segmentation_type', 'segmentation_id',
                        name='uq_network_trunk_port_segmentation'),
    )
    with op.batch_alter_table('network_trunk_port', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_trunk_port_trunk_id'), ['trunk_id'], unique=False)


def downgrade() -> None:
    op.drop_table('network_trunk_port')
    op.drop_table('network_trunk')
