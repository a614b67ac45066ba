"""clinical review: notes, reviews, triage summaries, reports

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'notes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('at_ts', sa.BigInteger(), nullable=False),
        sa.Column('utc_offset_min', sa.SmallInteger(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('created_ts', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['author_id'], ['users.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_notes_patient', 'notes', ['patient_id', 'at_ts'])
    op.create_table(
        'reviews',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('reviewer_id', sa.Integer(), nullable=True),
        sa.Column('reviewed_ts', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_reviews_patient', 'reviews', ['patient_id', 'reviewed_ts'])
    op.create_table(
        'patient_summaries',
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.Column('computed_ts', sa.BigInteger(), nullable=False),
        sa.Column('last_data_ts', sa.BigInteger(), nullable=True),
        sa.Column('severity', sa.SmallInteger(), nullable=False),
        sa.Column('stats', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('patient_id'),
    )
    op.create_table(
        'reports',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_ts', sa.BigInteger(), nullable=False),
        sa.Column('start_ts', sa.BigInteger(), nullable=False),
        sa.Column('end_ts', sa.BigInteger(), nullable=False),
        sa.Column('pages', sa.SmallInteger(), nullable=False),
        sa.Column('pdf', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['created_by'], ['users.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_reports_patient', 'reports', ['patient_id', 'created_ts'])


def downgrade() -> None:
    op.drop_index('ix_reports_patient', table_name='reports')
    op.drop_table('reports')
    op.drop_table('patient_summaries')
    op.drop_index('ix_reviews_patient', table_name='reviews')
    op.drop_table('reviews')
    op.drop_index('ix_notes_patient', table_name='notes')
    op.drop_table('notes')
