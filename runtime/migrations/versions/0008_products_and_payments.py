"""products and payments

What the trainer sells (products), the payments Telegram reported (one per
telegram_payment_charge_id), the passes they credited (memberships: visits null, a weekly cap;
frozen days; voided on refund), and late cancels that keep the visit (bookings.forfeited).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 22:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('products',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('visits', sa.Integer(), nullable=True),
    sa.Column('valid_days', sa.Integer(), nullable=False),
    sa.Column('per_week', sa.Integer(), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('on_sale', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('off_sale_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('amount > 0', name=op.f('ck_products_amount')),
    sa.CheckConstraint('per_week IS NULL OR per_week > 0', name=op.f('ck_products_per_week')),
    sa.CheckConstraint('valid_days > 0', name=op.f('ck_products_valid_days')),
    sa.CheckConstraint('visits IS NULL OR visits > 0', name=op.f('ck_products_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_products'))
    )
    with op.batch_alter_table('passes', schema=None) as batch_op:
        batch_op.alter_column('visits', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('per_week', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('product_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('payment_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('frozen_days', sa.Integer(), server_default=sa.text('0'), nullable=False))
        batch_op.add_column(sa.Column('voided_at', sa.DateTime(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_passes_product_id_products'), 'products', ['product_id'], ['id'], ondelete='SET NULL')

    op.create_table('payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('telegram_payment_charge_id', sa.String(length=255), nullable=False),
    sa.Column('provider_payment_charge_id', sa.String(length=255), nullable=False),
    sa.Column('pass_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('refund_reason', sa.Text(), nullable=True),
    sa.Column('refunded_at', sa.DateTime(), nullable=True),
    sa.Column('refunded_by', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("status IN ('paid', 'refunded')", name=op.f('ck_payments_status')),
    sa.ForeignKeyConstraint(['pass_id'], ['passes.id'], name=op.f('fk_payments_pass_id_passes'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_payments_product_id_products'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_payments_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
    sa.UniqueConstraint('telegram_payment_charge_id', name=op.f('uq_payments_telegram_payment_charge_id'))
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payments_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('forfeited', sa.Boolean(), server_default=sa.text('false'), nullable=False))
        batch_op.add_column(sa.Column('forgiven_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('forgiven_by', sa.BigInteger(), nullable=True))


def downgrade():
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_column('forgiven_by')
        batch_op.drop_column('forgiven_at')
        batch_op.drop_column('forfeited')

    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payments_user_id'))

    op.drop_table('payments')
    # Memberships (visits null) cannot be told in the old schema: they go with their column.
    op.execute('DELETE FROM passes WHERE visits IS NULL')
    with op.batch_alter_table('passes', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_passes_product_id_products'), type_='foreignkey')
        batch_op.drop_column('voided_at')
        batch_op.drop_column('frozen_days')
        batch_op.drop_column('payment_id')
        batch_op.drop_column('product_id')
        batch_op.drop_column('per_week')
        batch_op.alter_column('visits', existing_type=sa.Integer(), nullable=False)

    op.drop_table('products')
