"""health extracts checked and matched by background jobs: the extract's job and its stored message

Revision ID: b7d41e9a0c22
Revises: b7d4e2a91c35
Create Date: 2026-12-05 12:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d41e9a0c22'
down_revision = 'b7d4e2a91c35'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('health_extracts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('job_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('message', sa.JSON(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_health_extracts_job_id_jobs'), 'jobs', ['job_id'], ['id'],
                                    ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('health_extracts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_health_extracts_job_id_jobs'), type_='foreignkey')
        batch_op.drop_column('message')
        batch_op.drop_column('job_id')
