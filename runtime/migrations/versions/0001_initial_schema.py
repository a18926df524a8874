"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 08:50:31.056779

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('closures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_closures_ends_after_start')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_closures'))
    )
    with op.batch_alter_table('closures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_closures_starts_at'), ['starts_at'], unique=False)

    op.create_table('opening_hours',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.SmallInteger(), nullable=False),
    sa.Column('opens', sa.SmallInteger(), nullable=False),
    sa.Column('closes', sa.SmallInteger(), nullable=False),
    sa.CheckConstraint('opens >= 0 AND closes <= 1440 AND closes > opens', name=op.f('ck_opening_hours_interval')),
    sa.CheckConstraint('weekday BETWEEN 0 AND 6', name=op.f('ck_opening_hours_weekday')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opening_hours'))
    )
    with op.batch_alter_table('opening_hours', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opening_hours_weekday'), ['weekday'], unique=False)

    op.create_table('schedule_lock',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schedule_lock'))
    )
    # The single row every booking write locks first (see schedule.models.ScheduleLock).
    op.execute("INSERT INTO schedule_lock (id, version) VALUES (1, 0)")
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('telegram_id', sa.BigInteger(), nullable=False),
    sa.Column('first_name', sa.String(length=255), nullable=False),
    sa.Column('last_name', sa.String(length=255), nullable=True),
    sa.Column('username', sa.String(length=64), nullable=True),
    sa.Column('language_code', sa.String(length=16), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('blocked_bot', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('telegram_id', name=op.f('uq_users_telegram_id'))
    )
    op.create_table('bookings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(), nullable=True),
    sa.Column('cancelled_by', sa.String(length=16), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("status IN ('active', 'cancelled')", name=op.f('ck_bookings_status')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_bookings_ends_after_start')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_bookings_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bookings'))
    )
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index('ix_bookings_status_starts_at', ['status', 'starts_at'], unique=False)
        batch_op.create_index('ix_bookings_user_status_starts_at', ['user_id', 'status', 'starts_at'], unique=False)



def downgrade():
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index('ix_bookings_user_status_starts_at')
        batch_op.drop_index('ix_bookings_status_starts_at')

    op.drop_table('bookings')
    op.drop_table('users')
    op.drop_table('schedule_lock')
    with op.batch_alter_table('opening_hours', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_opening_hours_weekday'))

    op.drop_table('opening_hours')
    with op.batch_alter_table('closures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_closures_starts_at'))

    op.drop_table('closures')
