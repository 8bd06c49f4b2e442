"""health: registry extracts, matched records, tokens; each fact's provenance; the health-data officer role

Revision ID: a13e5b7c9d01
Revises: 7c1d2e3f4a5b
Create Date: 2026-12-05 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import portal.db


# revision identifiers, used by Alembic.
revision = 'a13e5b7c9d01'
down_revision = '7c1d2e3f4a5b'
branch_labels = None
depends_on = None

OLD_BINDING = ("(role = 'hr' AND enterprise_id IS NOT NULL AND unit_id IS NULL) OR (role = 'official' AND unit_id "
               "IS NOT NULL AND enterprise_id IS NULL) OR (role = 'admin' AND enterprise_id IS NULL AND unit_id IS NULL)")
NEW_BINDING = ("(role = 'hr' AND enterprise_id IS NOT NULL AND unit_id IS NULL) OR (role = 'official' AND unit_id "
               "IS NOT NULL AND enterprise_id IS NULL) OR (role IN ('admin', 'health') AND enterprise_id IS NULL "
               "AND unit_id IS NULL)")


def upgrade():
    op.create_table('health_extracts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('blob_key', sa.String(length=200), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('committed_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('problems', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_health_extracts_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_health_extracts'))
    )
    op.create_table('health_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('extract_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('number', sa.Integer(), nullable=True),
    sa.Column('product', sa.String(length=32), nullable=True),
    sa.Column('on_date', sa.Date(), nullable=True),
    sa.Column('recovered_on', sa.Date(), nullable=True),
    sa.Column('test_kind', sa.String(length=16), nullable=True),
    sa.Column('result', sa.String(length=16), nullable=True),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('registry_name', sa.String(length=200), nullable=True),
    sa.Column('received_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['extract_id'], ['health_extracts.id'], name=op.f('fk_health_records_extract_id_health_extracts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['worker_id'], ['workers.id'], name=op.f('fk_health_records_worker_id_workers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_health_records')),
    sa.UniqueConstraint('worker_id', 'kind', 'key', name='uq_health_records_worker_kind_key')
    )
    op.create_index('ix_health_records_extract', 'health_records', ['extract_id'], unique=False)
    op.create_table('health_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_health_tokens_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_health_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_health_tokens_token_hash'))
    )
    with op.batch_alter_table('vaccine_doses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provenance', sa.String(length=16), server_default='declared', nullable=False))
        batch_op.add_column(sa.Column('registry_data', sa.JSON(), nullable=True))
    with op.batch_alter_table('workers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recovery_provenance', sa.String(length=16), server_default='declared', nullable=False))
        batch_op.add_column(sa.Column('recovery_registry', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('test_provenance', sa.String(length=16), server_default='declared', nullable=False))
        batch_op.add_column(sa.Column('test_registry', sa.JSON(), nullable=True))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_role_binding'), type_='check')
        batch_op.create_check_constraint('role_binding', NEW_BINDING)


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_role_binding'), type_='check')
        batch_op.create_check_constraint('role_binding', OLD_BINDING)
    with op.batch_alter_table('workers', schema=None) as batch_op:
        batch_op.drop_column('test_registry')
        batch_op.drop_column('test_provenance')
        batch_op.drop_column('recovery_registry')
        batch_op.drop_column('recovery_provenance')
    with op.batch_alter_table('vaccine_doses', schema=None) as batch_op:
        batch_op.drop_column('registry_data')
        batch_op.drop_column('provenance')
    op.drop_table('health_tokens')
    op.drop_index('ix_health_records_extract', table_name='health_records')
    op.drop_table('health_records')
    op.drop_table('health_extracts')
