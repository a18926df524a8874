"""broadcasts

The trainer's messages to many clients (broadcasts), each delivery an outbox row naming its
broadcast (outbox.broadcast_id), and a client's /stop (users.broadcasts_stopped_at).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 00:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('broadcasts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('audience', sa.String(length=32), nullable=False),
    sa.Column('recipients', sa.Integer(), nullable=False),
    sa.Column('sent', sa.Integer(), nullable=True),
    sa.Column('failed', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_broadcasts'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('broadcast_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_outbox_broadcast_id_status', ['broadcast_id', 'status'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('broadcasts_stopped_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('broadcasts_stopped_at')

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_broadcast_id_status')
        batch_op.drop_column('broadcast_id')

    op.drop_table('broadcasts')
