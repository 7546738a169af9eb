"""generated_poses.failure_kind: a failed pose says whether the pose failed ("pose") or the server could not render
it ("infrastructure": a model missing, the engine broke), so only real pose failures count against templates and
success rates (issue 13, honest states)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('generated_poses') as batch:
        batch.add_column(sa.Column('failure_kind', sa.String(length=16), nullable=True))
    # Failures recorded before this revision: a pose check that ran out of attempts says so in its error;
    # anything else failed before it was rendered (model missing, template deleted).
    op.execute("UPDATE generated_poses SET failure_kind = CASE WHEN error LIKE 'Pose check failed%' THEN 'pose' "
               "ELSE 'infrastructure' END WHERE status = 'failed'")


def downgrade() -> None:
    with op.batch_alter_table('generated_poses') as batch:
        batch.drop_column('failure_kind')
