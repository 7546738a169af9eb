"""the avatar's face: box, crop and where the box came from (likeness and identity, issue 13)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 14:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('avatars') as batch:
        batch.add_column(sa.Column('face_path', sa.String(length=255), nullable=True))
        batch.add_column(sa.Column('face_box', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('face_source', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('avatars') as batch:
        batch.drop_column('face_source')
        batch.drop_column('face_box')
        batch.drop_column('face_path')
