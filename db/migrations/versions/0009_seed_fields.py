"""The seed's schema fields we did not store (issue 19): generated_poses.exported / export_count / poster_count
(the seed's exported, exportCount, usedInPosters), pose_generations.provider / model_id / base_prompt, and the
seed's indexes [userId, createdAt] (generations and results) and [templateId, success] (results by status)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 14:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('generated_poses') as batch:
        batch.add_column(sa.Column('exported', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('export_count', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('poster_count', sa.Integer(), nullable=False, server_default='0'))
        batch.create_index('ix_generated_poses_user_created', ['user_id', 'created_at'])
        batch.create_index('ix_generated_poses_template_status', ['template_id', 'status'])
    with op.batch_alter_table('pose_generations') as batch:
        batch.add_column(sa.Column('provider', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('model_id', sa.String(length=255), nullable=True))
        batch.add_column(sa.Column('base_prompt', sa.Text(), nullable=True))
        batch.create_index('ix_pose_generations_user_created', ['user_id', 'created_at'])
    # what the records already say: results exported in a ZIP or downloaded before this migration are not known
    # one by one (design_exports counts per export), but posters are: count them
    op.execute("UPDATE generated_poses SET poster_count = (SELECT COUNT(*) FROM posters "
               "WHERE posters.generated_pose_id = generated_poses.id)")


def downgrade() -> None:
    with op.batch_alter_table('pose_generations') as batch:
        batch.drop_index('ix_pose_generations_user_created')
        batch.drop_column('base_prompt')
        batch.drop_column('model_id')
        batch.drop_column('provider')
    with op.batch_alter_table('generated_poses') as batch:
        batch.drop_index('ix_generated_poses_template_status')
        batch.drop_index('ix_generated_poses_user_created')
        batch.drop_column('poster_count')
        batch.drop_column('export_count')
        batch.drop_column('exported')
