"""health share days: the confirmed share per unit and sector, recorded day by day

Revision ID: b7d4e2a91c35
Revises: 4f2a9c7d1e60
Create Date: 2026-12-05 13:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import portal.db


# revision identifiers, used by Alembic.
revision = 'b7d4e2a91c35'
down_revision = '4f2a9c7d1e60'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'health_share_days',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('sector', sa.String(length=64), nullable=False),
        sa.Column('workers_with_dose', sa.Integer(), nullable=False),
        sa.Column('confirmed', sa.Integer(), nullable=False),
        sa.Column('conflicting', sa.Integer(), nullable=False),
        sa.Column('recorded_at', portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['unit_id'], ['pilot_units.id'], name=op.f('fk_health_share_days_unit_id_pilot_units')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_health_share_days')),
        sa.UniqueConstraint('day', 'unit_id', 'sector', name='uq_health_share_days_day_unit_sector'),
    )


def downgrade():
    op.drop_table('health_share_days')
