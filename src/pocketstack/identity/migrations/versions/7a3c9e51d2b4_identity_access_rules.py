"""identity access rules of application credentials

Revision ID: 7a3c9e51d2b4
Revises: 5c1f0e2a7d93
Create Date: 2026-12-06 22:40:00.000000
"""

import sqlalchemy as sa
from alembic import op


revision = '7a3c9e51d2b4'
down_revision = '5c1f0e2a7d93'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('identity_access_rule',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('service', sa.String(length=64), nullable=False),
    sa.Column('path', sa.String(length=255), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['identity_user.id'],
                            name=op.f('fk_identity_access_rule_user_id_identity_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_access_rule')),
    sa.UniqueConstraint('user_id', 'service', 'path', 'method',
                        name=op.f('uq_identity_access_rule_user_id_service_path_method'))
    )
    op.create_index(op.f('ix_identity_access_rule_user_id'), 'identity_access_rule', ['user_id'])
    op.create_table('identity_app_cred_access_rule',
    sa.Column('application_credential_id', sa.String(length=64), nullable=False),
    sa.Column('access_rule_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['application_credential_id'], ['identity_application_credential.id'],
                            name=op.f('fk_identity_app_cred_access_rule_application_credential_id_identity_application_credential'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['access_rule_id'], ['identity_access_rule.id'],
                            name=op.f('fk_identity_app_cred_access_rule_access_rule_id_identity_access_rule')),
    sa.PrimaryKeyConstraint('application_credential_id', 'access_rule_id',
                            name=op.f('pk_identity_app_cred_access_rule'))
    )
    op.create_index(op.f('ix_identity_app_cred_access_rule_access_rule_id'), 'identity_app_cred_access_rule',
                    ['access_rule_id'])


def downgrade() -> None:
    op.drop_table('identity_app_cred_access_rule')
    op.drop_table('identity_access_rule')
