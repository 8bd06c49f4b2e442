"""stored messages: revocation reason codes and notes, the snapshot's reason, an index per enterprise

A revocation keeps a reason code and the person's note (a stored message) instead of a sentence
in Vietnamese; the eligibility snapshot keeps the rule's reason (a stored message) so that pages read
it instead of asking the rules again; an index lets one enterprise's figures be counted alone.

Revision ID: 8c3e0f1a2b4d
Revises: 81f7988d3ff6
Create Date: 2026-12-05 08:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8c3e0f1a2b4d'
down_revision = '81f7988d3ff6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('passes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revocation_code', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('revocation_note', sa.JSON(), nullable=True))

    # A sentence stored by an older release is kept, word for word, as the note of "other".
    passes = sa.table('passes', sa.column('id', sa.Integer), sa.column('status', sa.String),
                      sa.column('revocation_reason', sa.Text), sa.column('revocation_code', sa.String),
                      sa.column('revocation_note', sa.JSON))
    connection = op.get_bind()
    rows = connection.execute(sa.select(passes.c.id, passes.c.revocation_reason)
                              .where(passes.c.status == 'revoked')).all()
    for pass_id, reason in rows:
        note = {"id": reason, "params": {}, "literal": True} if reason else None
        connection.execute(passes.update().where(passes.c.id == pass_id)
                           .values(revocation_code='other', revocation_note=note))

    with op.batch_alter_table('passes', schema=None) as batch_op:
        batch_op.drop_column('revocation_reason')

    with op.batch_alter_table('eligibility_snapshots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.JSON(), nullable=True))
        batch_op.create_index('ix_eligibility_snapshots_enterprise', ['enterprise_id', 'eligible', 'basis', 'evaluated_on'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('eligibility_snapshots', schema=None) as batch_op:
        batch_op.drop_index('ix_eligibility_snapshots_enterprise')
        batch_op.drop_column('reason')

    with op.batch_alter_table('passes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revocation_reason', sa.Text(), nullable=True))

    passes = sa.table('passes', sa.column('id', sa.Integer), sa.column('revocation_reason', sa.Text),
                      sa.column('revocation_code', sa.String), sa.column('revocation_note', sa.JSON))
    connection = op.get_bind()
    rows = connection.execute(sa.select(passes.c.id, passes.c.revocation_code, passes.c.revocation_note)
                              .where(passes.c.revocation_code.is_not(None))).all()
    for pass_id, code, note in rows:
        words = (note or {}).get("id") if isinstance(note, dict) and note.get("literal") else None
        connection.execute(passes.update().where(passes.c.id == pass_id).values(revocation_reason=words or code))

    with op.batch_alter_table('passes', schema=None) as batch_op:
        batch_op.drop_column('revocation_note')
        batch_op.drop_column('revocation_code')
