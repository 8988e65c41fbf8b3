"""Failed sign-ins to addresses without an account, throttled like an account's.

Revision ID: 0003_unknown_sign_ins
Revises: 0002_staff
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_unknown_sign_ins"
down_revision = "0002_staff"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_unknown_sign_ins",
        sa.Column("login_digest", sa.String(64), primary_key=True),
        sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("staff_unknown_sign_ins")
