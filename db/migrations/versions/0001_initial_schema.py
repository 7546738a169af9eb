"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 18:23:35.700215
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('credits', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('credits >= 0', name='ck_users_credits_nonnegative'),
    sa.PrimaryKeyConstraint('id'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_username'), ['username'], unique=True)

    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_token_hash'), ['token_hash'], unique=True)
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('brand_kits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('brand_name', sa.String(length=100), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=True),
    sa.Column('colors', sa.JSON(), nullable=False),
    sa.Column('fonts', sa.JSON(), nullable=False),
    sa.Column('logo_path', sa.String(length=255), nullable=True),
    sa.Column('tone', sa.String(length=32), nullable=False),
    sa.Column('tagline', sa.String(length=140), nullable=True),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('usage_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('brand_kits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_brand_kits_user_id'), ['user_id'], unique=False)
        batch_op.create_index('uq_brand_kits_one_default', ['user_id'], unique=True, sqlite_where=sa.text('is_default'), postgresql_where=sa.text('is_default'))

    op.create_table('credit_ledger',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('delta', sa.Integer(), nullable=False),
    sa.Column('balance_after', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('app_id', sa.String(length=64), nullable=False),
    sa.Column('ref_type', sa.String(length=64), nullable=True),
    sa.Column('ref_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=255), nullable=True),
    sa.Column('idempotency_key', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('credit_ledger', schema=None) as batch_op:
        batch_op.create_index('ix_credit_ledger_user_created', ['user_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_ledger_user_id'), ['user_id'], unique=False)

    op.create_table('pose_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('subcategory', sa.String(length=64), nullable=True),
    sa.Column('keypoints', sa.JSON(), nullable=False),
    sa.Column('aspect', sa.String(length=8), nullable=False),
    sa.Column('preview_path', sa.String(length=255), nullable=True),
    sa.Column('difficulty', sa.String(length=16), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('gender', sa.String(length=16), nullable=False),
    sa.Column('product_placement', sa.String(length=16), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('usage_count', sa.Integer(), nullable=False),
    sa.Column('success_count', sa.Integer(), nullable=False),
    sa.Column('success_rate', sa.Float(), nullable=True),
    sa.Column('quality_count', sa.Integer(), nullable=False),
    sa.Column('avg_quality_score', sa.Float(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('pose_templates', schema=None) as batch_op:
        batch_op.create_index('ix_pose_templates_category_active', ['category', 'is_active'], unique=False)
        batch_op.create_index(batch_op.f('ix_pose_templates_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pose_templates_key'), ['key'], unique=True)

    op.create_table('avatars',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('brand_kit_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('source_type', sa.String(length=16), nullable=False),
    sa.Column('generation_prompt', sa.Text(), nullable=True),
    sa.Column('image_path', sa.String(length=255), nullable=False),
    sa.Column('thumbnail_path', sa.String(length=255), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('gender', sa.String(length=16), nullable=True),
    sa.Column('age_range', sa.String(length=16), nullable=True),
    sa.Column('style', sa.String(length=32), nullable=True),
    sa.Column('ethnicity', sa.String(length=32), nullable=True),
    sa.Column('usage_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['brand_kit_id'], ['brand_kits.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('avatars', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_avatars_brand_kit_id'), ['brand_kit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_avatars_user_id'), ['user_id'], unique=False)

    op.create_table('design_metrics',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('brand_kit_id', sa.Integer(), nullable=True),
    sa.Column('design_type', sa.String(length=16), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('times_created', sa.Integer(), nullable=False),
    sa.Column('times_exported', sa.Integer(), nullable=False),
    sa.Column('format_breakdown', sa.JSON(), nullable=False),
    sa.Column('avg_creation_time', sa.Float(), nullable=False),
    sa.Column('total_time_saved', sa.Float(), nullable=False),
    sa.Column('estimated_savings', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['brand_kit_id'], ['brand_kits.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'brand_kit_id', 'design_type', 'period', name='uq_design_metrics_key'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('design_metrics', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_design_metrics_brand_kit_id'), ['brand_kit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_design_metrics_user_id'), ['user_id'], unique=False)

    op.create_table('pose_generation_projects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('brand_kit_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['brand_kit_id'], ['brand_kits.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('pose_generation_projects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pose_generation_projects_brand_kit_id'), ['brand_kit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pose_generation_projects_user_id'), ['user_id'], unique=False)

    op.create_table('products',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('brand_kit_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=True),
    sa.Column('subcategory', sa.String(length=64), nullable=True),
    sa.Column('product_type', sa.String(length=32), nullable=True),
    sa.Column('placement', sa.String(length=16), nullable=False),
    sa.Column('original_path', sa.String(length=255), nullable=False),
    sa.Column('cutout_path', sa.String(length=255), nullable=True),
    sa.Column('thumbnail_path', sa.String(length=255), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('dominant_color', sa.String(length=7), nullable=True),
    sa.Column('bg_status', sa.String(length=16), nullable=False),
    sa.Column('bg_error', sa.Text(), nullable=True),
    sa.Column('bg_model', sa.String(length=64), nullable=True),
    sa.Column('mask_coverage', sa.Float(), nullable=True),
    sa.Column('usage_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['brand_kit_id'], ['brand_kits.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_products_bg_status'), ['bg_status'], unique=False)
        batch_op.create_index(batch_op.f('ix_products_brand_kit_id'), ['brand_kit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_products_user_id'), ['user_id'], unique=False)

    op.create_table('pose_generations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('brand_kit_id', sa.Integer(), nullable=True),
    sa.Column('avatar_id', sa.Integer(), nullable=True),
    sa.Column('product_id', sa.Integer(), nullable=True),
    sa.Column('total_poses', sa.Integer(), nullable=False),
    sa.Column('pose_distribution', sa.JSON(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('progress', sa.Float(), nullable=False),
    sa.Column('completed_count', sa.Integer(), nullable=False),
    sa.Column('failed_count', sa.Integer(), nullable=False),
    sa.Column('credits_reserved', sa.Integer(), nullable=False),
    sa.Column('credits_used', sa.Integer(), nullable=False),
    sa.Column('credits_refunded', sa.Integer(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['avatar_id'], ['avatars.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['brand_kit_id'], ['brand_kits.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['pose_generation_projects.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('pose_generations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pose_generations_avatar_id'), ['avatar_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pose_generations_brand_kit_id'), ['brand_kit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pose_generations_product_id'), ['product_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pose_generations_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pose_generations_user_id'), ['user_id'], unique=False)
        batch_op.create_index('ix_pose_generations_user_status', ['user_id', 'status'], unique=False)

    op.create_table('generated_poses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('generation_id', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('seed', sa.BigInteger(), nullable=False),
    sa.Column('prompt', sa.Text(), nullable=True),
    sa.Column('negative_prompt', sa.Text(), nullable=True),
    sa.Column('image_path', sa.String(length=255), nullable=True),
    sa.Column('thumbnail_path', sa.String(length=255), nullable=True),
    sa.Column('control_path', sa.String(length=255), nullable=True),
    sa.Column('quality_score', sa.Float(), nullable=True),
    sa.Column('quality_checked', sa.Boolean(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('render_seconds', sa.Float(), nullable=True),
    sa.Column('worker_id', sa.String(length=128), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['generation_id'], ['pose_generations.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['template_id'], ['pose_templates.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('generation_id', 'position', name='uq_generated_poses_generation_position'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('generated_poses', schema=None) as batch_op:
        batch_op.create_index('ix_generated_poses_generation_status', ['generation_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_generated_poses_template_id'), ['template_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_generated_poses_user_id'), ['user_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('generated_poses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_generated_poses_user_id'))
        batch_op.drop_index(batch_op.f('ix_generated_poses_template_id'))
        batch_op.drop_index('ix_generated_poses_generation_status')

    op.drop_table('generated_poses')
    with op.batch_alter_table('pose_generations', schema=None) as batch_op:
        batch_op.drop_index('ix_pose_generations_user_status')
        batch_op.drop_index(batch_op.f('ix_pose_generations_user_id'))
        batch_op.drop_index(batch_op.f('ix_pose_generations_project_id'))
        batch_op.drop_index(batch_op.f('ix_pose_generations_product_id'))
        batch_op.drop_index(batch_op.f('ix_pose_generations_brand_kit_id'))
        batch_op.drop_index(batch_op.f('ix_pose_generations_avatar_id'))

    op.drop_table('pose_generations')
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_products_user_id'))
        batch_op.drop_index(batch_op.f('ix_products_brand_kit_id'))
        batch_op.drop_index(batch_op.f('ix_products_bg_status'))

    op.drop_table('products')
    with op.batch_alter_table('pose_generation_projects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pose_generation_projects_user_id'))
        batch_op.drop_index(batch_op.f('ix_pose_generation_projects_brand_kit_id'))

    op.drop_table('pose_generation_projects')
    with op.batch_alter_table('design_metrics', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_design_metrics_user_id'))
        batch_op.drop_index(batch_op.f('ix_design_metrics_brand_kit_id'))

    op.drop_table('design_metrics')
    with op.batch_alter_table('avatars', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_avatars_user_id'))
        batch_op.drop_index(batch_op.f('ix_avatars_brand_kit_id'))

    op.drop_table('avatars')
    with op.batch_alter_table('pose_templates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pose_templates_key'))
        batch_op.drop_index(batch_op.f('ix_pose_templates_created_by_id'))
        batch_op.drop_index('ix_pose_templates_category_active')

    op.drop_table('pose_templates')
    with op.batch_alter_table('credit_ledger', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_ledger_user_id'))
        batch_op.drop_index('ix_credit_ledger_user_created')

    op.drop_table('credit_ledger')
    with op.batch_alter_table('brand_kits', schema=None) as batch_op:
        batch_op.drop_index('uq_brand_kits_one_default', sqlite_where=sa.text('is_default'), postgresql_where=sa.text('is_default'))
        batch_op.drop_index(batch_op.f('ix_brand_kits_user_id'))

    op.drop_table('brand_kits')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))
        batch_op.drop_index(batch_op.f('ix_api_tokens_token_hash'))

    op.drop_table('api_tokens')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_username'))

    op.drop_table('users')

