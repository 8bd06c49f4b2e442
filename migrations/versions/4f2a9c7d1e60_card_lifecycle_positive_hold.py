"""card lifecycle: the hold after a positive test, typed revocation reasons, every card version as printed

A worker whose card was revoked as "tested positive" is on hold (``workers.tested_positive_on``)
until a recovery or a negative test dated after that day; workers already revoked so are put on
hold from the day of their last such revocation. The reason "mistake" is stored as "data_error".
``pass_versions`` keeps every version of a card as printed; each card's current version is written
from ``passes`` (older versions were not kept before: their history starts here), counted as printed
when issued (nothing waits to be reprinted after the upgrade).

Revision ID: 4f2a9c7d1e60
Revises: a13e5b7c9d01
Create Date: 2026-12-05 10:10:00.000000

"""
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa

import portal.db


# revision identifiers, used by Alembic.
revision = '4f2a9c7d1e60'
down_revision = 'a13e5b7c9d01'
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


    op.create_table(
        'pass_versions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('pass_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('holder_name', sa.String(length=200), nullable=False),
        sa.Column('route_from', sa.String(length=300), nullable=False),
        sa.Column('route_to', sa.String(length=300), nullable=False),
        sa.Column('windows', sa.JSON(), nullable=False),
        sa.Column('valid_from', portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('valid_until', portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('content_digest', sa.String(length=64), nullable=False),
        sa.Column('issued_at', portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('issued_by_id', sa.Integer(), nullable=True),
        sa.Column('ended_at', portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('ended_by_id', sa.Integer(), nullable=True),
        sa.Column('end_kind', sa.String(length=16), nullable=True),
        sa.Column('end_code', sa.String(length=32), nullable=True),
        sa.Column('end_note', sa.JSON(), nullable=True),
        sa.Column('printed_at', portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['pass_id'], ['passes.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['issued_by_id'], ['users.id']),
        sa.ForeignKeyConstraint(['ended_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('pass_id', 'version'),
    )
    with op.batch_alter_table('pass_versions', schema=None) as batch_op:
        batch_op.create_index('ix_pass_versions_ended', ['ended_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_pass_versions_pass_id'), ['pass_id'], unique=False)

    connection.execute(sa.text(
        "INSERT INTO pass_versions (pass_id, version, holder_name, route_from, route_to, windows, valid_from, "
        "valid_until, content_digest, issued_at, issued_by_id, ended_at, ended_by_id, end_kind, end_code, end_note, "
        "printed_at) "
        "SELECT p.id, p.version, w.full_name, p.route_from, p.route_to, p.windows, p.valid_from, p.valid_until, "
        "p.content_digest, p.issued_at, p.issued_by_id, p.revoked_at, p.revoked_by_id, "
        "CASE WHEN p.status = 'revoked' THEN 'revoked' END, p.revocation_code, p.revocation_note, p.issued_at "
        "FROM passes p JOIN workers w ON w.id = p.worker_id"))


def downgrade():
    with op.batch_alter_table('pass_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pass_versions_pass_id'))
        batch_op.drop_index('ix_pass_versions_ended')
    op.drop_table('pass_versions')
    # Not in a batch: SQLite (3.35+) drops a plain column in place, where a batch would copy the table,
    # which its foreign keys refuse once cards refer to workers.
    op.drop_column('workers', 'tested_positive_on')
