"""image import tasks: image_id, request_id and user_id of a task

Existing ``import`` tasks get their ``image_id`` from ``result`` (where it was kept
before), so ``/v2/images/{id}/tasks`` keeps listing them.

Revision ID: a3c9e1f04b6d
Revises: 7ba01eb1b02b
Create Date: 2026-12-06 15:50:00.000000
"""

import json

import sqlalchemy as sa
from alembic import op

revision = 'a3c9e1f04b6d'
down_revision = '7ba01eb1b02b'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('image_task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('image_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('request_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('user_id', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_image_task_image_id'), ['image_id'], unique=False)
    task = sa.table('image_task', sa.column('id', sa.String), sa.column('result', sa.Text),
                    sa.column('image_id', sa.String))
    bind = op.get_bind()
    rows = bind.execute(sa.select(task.c.id, task.c.result).where(task.c.result.is_not(None))).all()
    for task_id, result in rows:
        image_id = (json.loads(result) or {}).get('image_id') if result else None
        if image_id:
            bind.execute(sa.update(task).where(task.c.id == task_id).values(image_id=image_id))


def downgrade() -> None:
    with op.batch_alter_table('image_task', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_image_task_image_id'))
        batch_op.drop_column('user_id')
        batch_op.drop_column('request_id')
        batch_op.drop_column('image_id')
