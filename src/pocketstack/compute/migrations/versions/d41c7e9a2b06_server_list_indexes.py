"""server list indexes: (project_id, created_at, id) for a project's newest-first pages

Revision ID: d41c7e9a2b06
Revises: 3c73172b09c9
Create Date: 2026-11-23 14:10:00.000000
"""

from alembic import op

revision = 'd41c7e9a2b06'
down_revision = '3c73172b09c9'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_compute_instance_project_created", "compute_instance", ["project_id", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_compute_instance_project_created", table_name="compute_instance")
