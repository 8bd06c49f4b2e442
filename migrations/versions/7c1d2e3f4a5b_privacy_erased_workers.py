"""privacy: when a worker's personal data was erased at the end of the pilot

Revision ID: 7c1d2e3f4a5b
Revises: 8c3e0f1a2b4d
Create Date: 2026-12-05 08:20:00.000000

"""
from alembic import op
import sqlalchemy as sa

import portal.db


# revision identifiers, used by Alembic.
revision = '7c1d2e3f4a5b'
down_revision = '8c3e0f1a2b4d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('workers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', portal.db.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('workers', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
