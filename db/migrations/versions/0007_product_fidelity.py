"""generated_poses.product_mode / product_fidelity: how the product got into each image (generated around it,
pasted, worn, or the prompt only) and what of it reached the image, measured (issue 14)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 13:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('generated_poses') as batch:
        batch.add_column(sa.Column('product_mode', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('product_fidelity', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('generated_poses') as batch:
        batch.drop_column('product_fidelity')
        batch.drop_column('product_mode')
