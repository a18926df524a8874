"""waitlist and reminders

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 09:06:40.993952

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('reminder_claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('offset_minutes', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=False),
    sa.Column('claimed_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('skipped', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_reminder_claims_booking_id_bookings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_claims'))
    )
    with op.batch_alter_table('reminder_claims', schema=None) as batch_op:
        batch_op.create_index('uq_reminder_claims_booking_offset_start', ['booking_id', 'offset_minutes', 'starts_at'], unique=True)

    op.create_table('waitlist',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("status IN ('waiting', 'promoted', 'left', 'expired')", name=op.f('ck_waitlist_status')),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_waitlist_booking_id_bookings'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_waitlist_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waitlist'))
    )
    with op.batch_alter_table('waitlist', schema=None) as batch_op:
        batch_op.create_index('ix_waitlist_status_starts_at', ['status', 'starts_at'], unique=False)
        batch_op.create_index('uq_waitlist_waiting_user_start', ['user_id', 'starts_at'], unique=True, sqlite_where=sa.text("status = 'waiting'"), postgresql_where=sa.text("status = 'waiting'"))



def downgrade():
    with op.batch_alter_table('waitlist', schema=None) as batch_op:
        batch_op.drop_index('uq_waitlist_waiting_user_start', sqlite_where=sa.text("status = 'waiting'"), postgresql_where=sa.text("status = 'waiting'"))
        batch_op.drop_index('ix_waitlist_status_starts_at')

    op.drop_table('waitlist')
    with op.batch_alter_table('reminder_claims', schema=None) as batch_op:
        batch_op.drop_index('uq_reminder_claims_booking_offset_start')

    op.drop_table('reminder_claims')
