"""generated_poses.error_code / error_params: why a pose failed (or was cancelled) as a message code and its
parameters, so each reader sees it in their own language; `error` keeps the English text (REST, logs, older rows)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 01:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('generated_poses') as batch:
        batch.add_column(sa.Column('error_code', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('error_params', sa.JSON(), nullable=True))
    # rows from before: the one fixed sentence we can give a code; the others keep their English text
    op.execute("UPDATE generated_poses SET error_code = 'render.cancelled' WHERE error = 'Cancelled.'")


def downgrade() -> None:
    with op.batch_alter_table('generated_poses') as batch:
        batch.drop_column('error_params')
        batch.drop_column('error_code')
