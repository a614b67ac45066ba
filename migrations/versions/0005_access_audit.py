"""access, consent and audit: audit log (append-only), caregivers, invitations, break-glass,
server-side sessions, encrypted secrets; sign-in and single sign-on columns on users

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

_PG_IMMUTABLE = """
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
"""


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False,
                                   server_default='0'))
        batch.add_column(sa.Column('locked_until', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('oidc_issuer', sa.String(length=300), nullable=True))
        batch.add_column(sa.Column('oidc_subject', sa.String(length=255), nullable=True))
        batch.create_unique_constraint('uq_users_oidc', ['oidc_issuer', 'oidc_subject'])
    with op.batch_alter_table('care_team') as batch:
        batch.add_column(sa.Column('added_by', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_care_team_added_by', 'users', ['added_by'], ['id'],
                                 ondelete='SET NULL')
    op.create_table(
        'audit_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ts', sa.BigInteger(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('actor', sa.String(length=254), nullable=False),
        sa.Column('actor_role', sa.String(length=20), nullable=False),
        sa.Column('action', sa.String(length=40), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=True),
        sa.Column('target', sa.String(length=300), nullable=False),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.Column('ip', sa.String(length=64), nullable=True),
        sa.Column('prev_hash', sa.String(length=64), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_audit_ts', 'audit_events', ['ts'])
    op.create_index('ix_audit_patient', 'audit_events', ['patient_id', 'ts'])
    op.create_index('ix_audit_actor', 'audit_events', ['actor_id', 'ts'])
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(_PG_IMMUTABLE)
    else:
        for event in ('UPDATE', 'DELETE'):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{event.lower()} BEFORE {event} ON audit_events "
                "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END")
    op.create_table(
        'caregivers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('caregiver_id', sa.Integer(), nullable=False),
        sa.Column('granted_by', sa.Integer(), nullable=True),
        sa.Column('granted_ts', sa.BigInteger(), nullable=False),
        sa.Column('revoked_ts', sa.BigInteger(), nullable=True),
        sa.Column('revoked_by', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['caregiver_id'], ['users.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['granted_by'], ['users.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['revoked_by'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_caregivers_caregiver', 'caregivers', ['caregiver_id'])
    op.create_index('ix_caregivers_patient', 'caregivers', ['patient_id'])
    op.create_table(
        'invitations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_ts', sa.BigInteger(), nullable=False),
        sa.Column('expires_ts', sa.BigInteger(), nullable=False),
        sa.Column('accepted_ts', sa.BigInteger(), nullable=True),
        sa.Column('accepted_by', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by'], ['users.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['accepted_by'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    op.create_table(
        'break_glass',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('admin_id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('started_ts', sa.BigInteger(), nullable=False),
        sa.Column('expires_ts', sa.BigInteger(), nullable=False),
        sa.Column('ended_ts', sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(['admin_id'], ['users.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_break_glass_admin', 'break_glass', ['admin_id', 'expires_ts'])
    op.create_table(
        'user_sessions',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_ts', sa.BigInteger(), nullable=False),
        sa.Column('last_seen_ts', sa.BigInteger(), nullable=False),
        sa.Column('ended_ts', sa.BigInteger(), nullable=True),
        sa.Column('ip', sa.String(length=64), nullable=True),
        sa.Column('user_agent', sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_user_sessions_user', 'user_sessions', ['user_id'])
    op.create_table(
        'secrets',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('provider', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('ciphertext', sa.Text(), nullable=False),
        sa.Column('created_ts', sa.BigInteger(), nullable=False),
        sa.Column('updated_ts', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('patient_id', 'user_id', 'provider', 'name',
                            name='uq_secrets_owner'),
    )


def downgrade() -> None:
    op.drop_table('secrets')
    op.drop_index('ix_user_sessions_user', table_name='user_sessions')
    op.drop_table('user_sessions')
    op.drop_index('ix_break_glass_admin', table_name='break_glass')
    op.drop_table('break_glass')
    op.drop_table('invitations')
    op.drop_index('ix_caregivers_patient', table_name='caregivers')
    op.drop_index('ix_caregivers_caregiver', table_name='caregivers')
    op.drop_table('caregivers')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    op.drop_index('ix_audit_actor', table_name='audit_events')
    op.drop_index('ix_audit_patient', table_name='audit_events')
    op.drop_index('ix_audit_ts', table_name='audit_events')
    op.drop_table('audit_events')
    with op.batch_alter_table('care_team') as batch:
        batch.drop_constraint('fk_care_team_added_by', type_='foreignkey')
        batch.drop_column('added_by')
    with op.batch_alter_table('users') as batch:
        batch.drop_constraint('uq_users_oidc', type_='unique')
        batch.drop_column('oidc_subject')
        batch.drop_column('oidc_issuer')
        batch.drop_column('locked_until')
        batch.drop_column('failed_logins')
