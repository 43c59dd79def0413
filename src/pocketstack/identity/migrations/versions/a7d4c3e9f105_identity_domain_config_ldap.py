"""identity domain-specific configuration and the LDAP id mapping

Revision ID: a7d4c3e9f105
Revises: 185d549ac1d1
Create Date: 2026-12-07 09:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

from pocketstack.common.db.base import JSONText

revision = 'a7d4c3e9f105'
down_revision = '185d549ac1d1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('identity_domain_config',
    sa.Column('domain_id', sa.String(length=64), nullable=False),
    sa.Column('group', sa.String(length=255), nullable=False),
    sa.Column('option', sa.String(length=255), nullable=False),
    sa.Column('value', JSONText(), nullable=True),
    sa.Column('sensitive', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('domain_id', 'group', 'option', name=op.f('pk_identity_domain_config'))
    )
    op.create_table('identity_id_mapping',
    sa.Column('public_id', sa.String(length=64), nullable=False),
    sa.Column('domain_id', sa.String(length=64), nullable=False),
    sa.Column('local_id', sa.String(length=255), nullable=False),
    sa.Column('entity_type', sa.String(length=8), nullable=False),
    sa.PrimaryKeyConstraint('public_id', name=op.f('pk_identity_id_mapping')),
    sa.UniqueConstraint('domain_id', 'local_id', 'entity_type',
                        name=op.f('uq_identity_id_mapping_domain_id_local_id_entity_type'))
    )
    op.create_index(op.f('ix_identity_id_mapping_domain_id'), 'identity_id_mapping', ['domain_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_identity_id_mapping_domain_id'), table_name='identity_id_mapping')
    op.drop_table('identity_id_mapping')
    op.drop_table('identity_domain_config')
