"""trainers and kinds

Several trainers (their Telegram id, name, own opening hours) and kinds of training besides the
default one (length, visitors at once, who gives them); bookings name their kind and trainer,
closures may be one trainer's. Every existing row keeps its meaning: a null kind is the default
kind, a null trainer the studio, a null closure trainer the whole studio.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 01:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('trainers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('telegram_id', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('opening_hours', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trainers')),
    sa.UniqueConstraint('telegram_id', name=op.f('uq_trainers_telegram_id'))
    )
    op.create_table('kinds',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('minutes > 0', name=op.f('ck_kinds_minutes')),
    sa.CheckConstraint('capacity > 0', name=op.f('ck_kinds_capacity')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kinds'))
    )
    op.create_table('kind_trainers',
    sa.Column('kind_id', sa.Integer(), nullable=False),
    sa.Column('trainer_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['kind_id'], ['kinds.id'], name=op.f('fk_kind_trainers_kind_id_kinds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['trainer_id'], ['trainers.id'], name=op.f('fk_kind_trainers_trainer_id_trainers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('kind_id', 'trainer_id', name=op.f('pk_kind_trainers'))
    )
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('trainer_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_bookings_trainer_id'), ['trainer_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_bookings_kind_id_kinds'), 'kinds', ['kind_id'], ['id'], ondelete='RESTRICT')
        batch_op.create_foreign_key(batch_op.f('fk_bookings_trainer_id_trainers'), 'trainers', ['trainer_id'], ['id'], ondelete='RESTRICT')

    with op.batch_alter_table('closures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trainer_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_closures_trainer_id'), ['trainer_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_closures_trainer_id_trainers'), 'trainers', ['trainer_id'], ['id'], ondelete='CASCADE')


def downgrade():
    with op.batch_alter_table('closures', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_closures_trainer_id_trainers'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_closures_trainer_id'))
        batch_op.drop_column('trainer_id')

    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_bookings_trainer_id_trainers'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_bookings_kind_id_kinds'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_bookings_trainer_id'))
        batch_op.drop_column('trainer_id')
        batch_op.drop_column('kind_id')

    op.drop_table('kind_trainers')
    op.drop_table('kinds')
    op.drop_table('trainers')
