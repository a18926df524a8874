"""outbox budget

The one row of the outbox's overall pace: a token bucket every dispatcher takes from as it
claims (schedule.outbox.Pace), so that several dispatchers together stay under Telegram's
rate for a bot.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 23:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outbox_budget',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tokens', sa.Float(), nullable=False),
    sa.Column('refilled_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_budget'))
    )
    # Empty and long unfilled, so full at its first use (schedule.outbox.ensure_budget_row).
    op.execute("INSERT INTO outbox_budget (id, tokens, refilled_at) VALUES (1, 0, '2000-01-01 00:00:00')")


def downgrade():
    op.drop_table('outbox_budget')
