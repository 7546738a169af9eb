"""batch generation bookkeeping on generated_poses, the posters table, and design_exports

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 22:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('generated_poses') as batch:
        batch.add_column(sa.Column('round', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('cost', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('job_id', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('pipeline_seconds', sa.Float(), nullable=True))
        batch.add_column(sa.Column('product_box', sa.JSON(), nullable=True))
    # Poses planned before this revision held the single-pose price.
    op.execute("UPDATE generated_poses SET cost = 10 WHERE status IN ('pending', 'running')")

    op.create_table('posters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('brand_kit_id', sa.Integer(), nullable=True),
    sa.Column('generated_pose_id', sa.Integer(), nullable=True),
    sa.Column('format', sa.String(length=32), nullable=False),
    sa.Column('layout', sa.String(length=32), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('image_path', sa.String(length=255), nullable=False),
    sa.Column('thumbnail_path', sa.String(length=255), nullable=False),
    sa.Column('text', sa.JSON(), nullable=True),
    sa.Column('render_seconds', sa.Float(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['brand_kit_id'], ['brand_kits.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['generated_pose_id'], ['generated_poses.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sqlite_autoincrement=True
    )
    op.create_index('ix_posters_brand_kit_id', 'posters', ['brand_kit_id'], unique=False)
    op.create_index('ix_posters_generated_pose_id', 'posters', ['generated_pose_id'], unique=False)
    op.create_index('ix_posters_user_id', 'posters', ['user_id'], unique=False)
    op.create_index('ix_posters_user_created', 'posters', ['user_id', 'created_at'], unique=False)

    op.create_table('design_exports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('brand_kit_id', sa.Integer(), nullable=True),
    sa.Column('design_type', sa.String(length=16), nullable=False),
    sa.Column('format', sa.String(length=32), nullable=False),
    sa.Column('item_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['brand_kit_id'], ['brand_kits.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sqlite_autoincrement=True
    )
    op.create_index('ix_design_exports_brand_kit_id', 'design_exports', ['brand_kit_id'], unique=False)
    op.create_index('ix_design_exports_user_id', 'design_exports', ['user_id'], unique=False)
    op.create_index('ix_design_exports_user_created', 'design_exports', ['user_id', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_design_exports_user_created', table_name='design_exports')
    op.drop_index('ix_design_exports_user_id', table_name='design_exports')
    op.drop_index('ix_design_exports_brand_kit_id', table_name='design_exports')
    op.drop_table('design_exports')
    op.drop_index('ix_posters_user_created', table_name='posters')
    op.drop_index('ix_posters_user_id', table_name='posters')
    op.drop_index('ix_posters_generated_pose_id', table_name='posters')
    op.drop_index('ix_posters_brand_kit_id', table_name='posters')
    op.drop_table('posters')
    with op.batch_alter_table('generated_poses') as batch:
        batch.drop_column('product_box')
        batch.drop_column('pipeline_seconds')
        batch.drop_column('job_id')
        batch.drop_column('cost')
        batch.drop_column('round')
