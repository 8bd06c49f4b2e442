"""card lifecycle: the hold after a positive test, typed revocation reasons

A worker whose card was revoked as "tested positive" is on hold (``workers.tested_positive_on``)
until a recovery or a negative test dated after that day; workers already revoked so are put on
hold from the day of their last such revocation. The reason "mistake" is stored as "data_error".

Revision ID: 4f2a9c7d1e60
Revises: 7c1d2e3f4a5b
Create Date: 2026-12-05 10:10:00.000000

"""
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa

import portal.db


# revision identifiers, used by Alembic.
revision = '4f2a9c7d1e60'
down_revision = '7c1d2e3f4a5b'
branch_labels = None
depends_on = None

HCMC = ZoneInfo("Asia/Ho_Chi_Minh")


def upgrade():
    with op.batch_alter_table('workers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tested_positive_on', sa.Date(), nullable=True))

    connection = op.get_bind()
    passes = sa.table('passes', sa.column('worker_id', sa.Integer), sa.column('status', sa.String),
                      sa.column('revoked_at', portal.db.UTCDateTime(timezone=True)), sa.column('revocation_code', sa.String))
    workers = sa.table('workers', sa.column('id', sa.Integer), sa.column('tested_positive_on', sa.Date))
    connection.execute(passes.update().where(passes.c.revocation_code == 'mistake')
                       .values(revocation_code='data_error'))
    rows = connection.execute(
        sa.select(passes.c.worker_id, sa.func.max(passes.c.revoked_at))
        .where(passes.c.status == 'revoked', passes.c.revocation_code == 'f0', passes.c.revoked_at.is_not(None))
        .group_by(passes.c.worker_id)).all()
    for worker_id, revoked_at in rows:
        connection.execute(workers.update().where(workers.c.id == worker_id)
                           .values(tested_positive_on=revoked_at.astimezone(HCMC).date()))


def downgrade():
    with op.batch_alter_table('workers', schema=None) as batch_op:
        batch_op.drop_column('tested_positive_on')
