"""identity: the SAML service provider's outstanding AuthnRequests, shared by processes

Revision ID: 5e0c7b2a9d41
Revises: d81f5a3c6e27
Create Date: 2026-12-07 16:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '5e0c7b2a9d41'
down_revision = 'd81f5a3c6e27'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('identity_saml_request',
    sa.Column('request_id', sa.String(length=255), nullable=False),
    sa.Column('idp_id', sa.String(length=255), nullable=False),
    sa.Column('protocol_id', sa.String(length=255), nullable=False),
    sa.Column('entity_id', sa.String(length=1024), nullable=False),
    sa.Column('origin', sa.Text(), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('request_id', name=op.f('pk_identity_saml_request'))
    )
    op.create_index(op.f('ix_identity_saml_request_expires_at'), 'identity_saml_request', ['expires_at'])


def downgrade() -> None:
    op.drop_index(op.f('ix_identity_saml_request_expires_at'), table_name='identity_saml_request')
    op.drop_table('identity_saml_request')
