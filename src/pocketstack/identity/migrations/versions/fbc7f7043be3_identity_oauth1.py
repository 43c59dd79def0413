"""identity OAuth 1.0a delegation (OS-OAUTH1): consumers, request and access tokens

Revision ID: fbc7f7043be3
Revises: a7d4c3e9f105
Create Date: 2026-12-07 09:24:07.945260
"""

import sqlalchemy as sa
from alembic import op

from pocketstack.common.db.base import JSONText

revision = 'fbc7f7043be3'
down_revision = 'a7d4c3e9f105'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('identity_oauth_consumer',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('secret', sa.String(length=64), nullable=False),
    sa.Column('extra', JSONText(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_oauth_consumer'))
    )
    op.create_table('identity_oauth_access_token',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('access_secret', sa.String(length=64), nullable=False),
    sa.Column('authorizing_user_id', sa.String(length=64), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('role_ids', JSONText(), nullable=False),
    sa.Column('consumer_id', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['consumer_id'], ['identity_oauth_consumer.id'], name=op.f('fk_identity_oauth_access_token_consumer_id_identity_oauth_consumer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_oauth_access_token'))
    )
    with op.batch_alter_table('identity_oauth_access_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_oauth_access_token_authorizing_user_id'), ['authorizing_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_identity_oauth_access_token_consumer_id'), ['consumer_id'], unique=False)

    op.create_table('identity_oauth_request_token',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('request_secret', sa.String(length=64), nullable=False),
    sa.Column('verifier', sa.String(length=64), nullable=True),
    sa.Column('authorizing_user_id', sa.String(length=64), nullable=True),
    sa.Column('requested_project_id', sa.String(length=64), nullable=False),
    sa.Column('role_ids', JSONText(), nullable=True),
    sa.Column('consumer_id', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['consumer_id'], ['identity_oauth_consumer.id'], name=op.f('fk_identity_oauth_request_token_consumer_id_identity_oauth_consumer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_oauth_request_token'))
    )
    with op.batch_alter_table('identity_oauth_request_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_oauth_request_token_consumer_id'), ['consumer_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('identity_oauth_request_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_oauth_request_token_consumer_id'))

    op.drop_table('identity_oauth_request_token')
    with op.batch_alter_table('identity_oauth_access_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_oauth_access_token_consumer_id'))
        batch_op.drop_index(batch_op.f('ix_identity_oauth_access_token_authorizing_user_id'))

    op.drop_table('identity_oauth_access_token')
    op.drop_table('identity_oauth_consumer')
