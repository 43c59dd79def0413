"""identity federation (OS-FEDERATION): identity providers, protocols, mappings, shadow users

Revision ID: 185d549ac1d1
Revises: e3b71f0c9a52
Create Date: 2026-12-07 05:51:08.706930
"""

import sqlalchemy as sa
from alembic import op

from pocketstack.common.db.base import JSONText

revision = '185d549ac1d1'
down_revision = 'e3b71f0c9a52'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('identity_idp',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('domain_id', sa.String(length=64), nullable=False),
    sa.Column('authorization_ttl', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_idp'))
    )
    with op.batch_alter_table('identity_idp', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_idp_domain_id'), ['domain_id'], unique=False)

    op.create_table('identity_mapping',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('rules', JSONText(), nullable=False),
    sa.Column('schema_version', sa.String(length=5), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_mapping'))
    )
    op.create_table('identity_federated_user',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('idp_id', sa.String(length=64), nullable=False),
    sa.Column('protocol_id', sa.String(length=64), nullable=False),
    sa.Column('unique_id', sa.String(length=255), nullable=False),
    sa.Column('display_name', sa.String(length=255), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['identity_user.id'], name=op.f('fk_identity_federated_user_user_id_identity_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_federated_user')),
    sa.UniqueConstraint('idp_id', 'protocol_id', 'unique_id', name=op.f('uq_identity_federated_user_idp_id_protocol_id_unique_id'))
    )
    with op.batch_alter_table('identity_federated_user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_federated_user_idp_id'), ['idp_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_identity_federated_user_user_id'), ['user_id'], unique=False)

    op.create_table('identity_federation_protocol',
    sa.Column('idp_id', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('mapping_id', sa.String(length=64), nullable=False),
    sa.Column('remote_id_attribute', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['idp_id'], ['identity_idp.id'], name=op.f('fk_identity_federation_protocol_idp_id_identity_idp'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('idp_id', 'id', name=op.f('pk_identity_federation_protocol'))
    )
    op.create_table('identity_idp_remote_id',
    sa.Column('remote_id', sa.String(length=255), nullable=False),
    sa.Column('idp_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['idp_id'], ['identity_idp.id'], name=op.f('fk_identity_idp_remote_id_idp_id_identity_idp'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('remote_id', name=op.f('pk_identity_idp_remote_id'))
    )
    with op.batch_alter_table('identity_idp_remote_id', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_idp_remote_id_idp_id'), ['idp_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('identity_idp_remote_id', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_idp_remote_id_idp_id'))

    op.drop_table('identity_idp_remote_id')
    op.drop_table('identity_federation_protocol')
    with op.batch_alter_table('identity_federated_user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_federated_user_user_id'))
        batch_op.drop_index(batch_op.f('ix_identity_federated_user_idp_id'))

    op.drop_table('identity_federated_user')
    op.drop_table('identity_mapping')
    with op.batch_alter_table('identity_idp', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_idp_domain_id'))

    op.drop_table('identity_idp')
