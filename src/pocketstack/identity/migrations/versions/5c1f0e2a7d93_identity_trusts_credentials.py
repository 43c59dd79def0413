"""identity trusts, credentials and security compliance

Revision ID: 5c1f0e2a7d93
Revises: 9e97d455878c
Create Date: 2026-12-06 19:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

from pocketstack.common.db.base import JSONText

revision = '5c1f0e2a7d93'
down_revision = '9e97d455878c'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('identity_trust',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('trustor_user_id', sa.String(length=64), nullable=False),
    sa.Column('trustee_user_id', sa.String(length=64), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=True),
    sa.Column('impersonation', sa.Boolean(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('remaining_uses', sa.Integer(), nullable=True),
    sa.Column('redelegated_trust_id', sa.String(length=64), nullable=True),
    sa.Column('redelegation_count', sa.Integer(), nullable=False),
    sa.Column('roles', JSONText(), nullable=False),
    sa.Column('extra', JSONText(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_trust'))
    )
    op.create_index(op.f('ix_identity_trust_trustor_user_id'), 'identity_trust', ['trustor_user_id'])
    op.create_index(op.f('ix_identity_trust_trustee_user_id'), 'identity_trust', ['trustee_user_id'])
    op.create_index(op.f('ix_identity_trust_redelegated_trust_id'), 'identity_trust', ['redelegated_trust_id'])
    op.create_table('identity_credential',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=True),
    sa.Column('type', sa.String(length=255), nullable=False),
    sa.Column('encrypted_blob', sa.Text(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('extra', JSONText(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_credential'))
    )
    op.create_index(op.f('ix_identity_credential_user_id'), 'identity_credential', ['user_id'])
    op.add_column('identity_user', sa.Column('password_created_at', sa.DateTime(), nullable=True))
    op.add_column('identity_user', sa.Column('password_self_service', sa.Boolean(), nullable=True))
    op.add_column('identity_user', sa.Column('failed_auth_count', sa.Integer(), nullable=True))
    op.add_column('identity_user', sa.Column('failed_auth_at', sa.DateTime(), nullable=True))
    op.create_table('identity_password_history',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['identity_user.id'],
                            name=op.f('fk_identity_password_history_user_id_identity_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_password_history'))
    )
    op.create_index(op.f('ix_identity_password_history_user_id'), 'identity_password_history', ['user_id'])


def downgrade() -> None:
    op.drop_table('identity_password_history')
    with op.batch_alter_table('identity_user') as batch:
        for column in ('failed_auth_at', 'failed_auth_count', 'password_self_service', 'password_created_at'):
            batch.drop_column(column)
    op.drop_table('identity_credential')
    op.drop_table('identity_trust')
