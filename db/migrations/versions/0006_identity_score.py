"""generated_poses.identity_score / identity: how much the image's face looks like the avatar's (cosine of the
IP-Adapter image encoder's embeddings) and what was measured or why not (issue 13)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 01:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('generated_poses') as batch:
        batch.add_column(sa.Column('identity_score', sa.Float(), nullable=True))
        batch.add_column(sa.Column('identity', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('generated_poses') as batch:
        batch.drop_column('identity')
        batch.drop_column('identity_score')
