"""generated_poses.provider / provider_model / provider_job_id / provider_fallback: who rendered each image (the
local engine or a hosted provider: fal, Replicate, Hugging Face), its model and job id there, and the engines that
failed it first (issue 18)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 01:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('generated_poses') as batch:
        batch.add_column(sa.Column('provider', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('provider_model', sa.String(length=255), nullable=True))
        batch.add_column(sa.Column('provider_job_id', sa.String(length=128), nullable=True))
        batch.add_column(sa.Column('provider_fallback', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('generated_poses') as batch:
        batch.drop_column('provider_fallback')
        batch.drop_column('provider_job_id')
        batch.drop_column('provider_model')
        batch.drop_column('provider')
