"""retired trainers and kinds; waitlist entries name a kind and trainer

An owner may remove a trainer or take a kind off the schedule: the row stays (bookings name it)
with `retired_at` set. A waitlist entry names the kind and trainer waited for; existing entries
keep null, the default kind with any trainer.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 04:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('trainers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retired_at', sa.DateTime(), nullable=True))

    with op.batch_alter_table('kinds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retired_at', sa.DateTime(), nullable=True))

    with op.batch_alter_table('waitlist', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('trainer_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_waitlist_kind_id_kinds'), 'kinds', ['kind_id'], ['id'], ondelete='RESTRICT')
        batch_op.create_foreign_key(batch_op.f('fk_waitlist_trainer_id_trainers'), 'trainers', ['trainer_id'], ['id'], ondelete='RESTRICT')


def downgrade():
    with op.batch_alter_table('waitlist', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_waitlist_trainer_id_trainers'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_waitlist_kind_id_kinds'), type_='foreignkey')
        batch_op.drop_column('trainer_id')
        batch_op.drop_column('kind_id')

    with op.batch_alter_table('kinds', schema=None) as batch_op:
        batch_op.drop_column('retired_at')

    with op.batch_alter_table('trainers', schema=None) as batch_op:
        batch_op.drop_column('retired_at')
