"""Staff accounts, signed-in sessions, trusted devices, lead notes and the audit log.

Revision ID: 0002_staff
Revises: 0001_leads
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_staff"
down_revision = "0001_leads"
branch_labels = None
depends_on = None


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "staff_accounts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("login", sa.String(320), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("must_change_password", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
        _timestamp("last_failed_at", nullable=True),
        _timestamp("locked_until", nullable=True),
        _timestamp("created_at"),
        _timestamp("password_changed_at"),
        _timestamp("last_login_at", nullable=True),
        sa.UniqueConstraint("login", name="uq_staff_accounts_login"),
    )
    op.create_table(
        "staff_logins",
        sa.Column("token_digest", sa.String(64), primary_key=True),
        sa.Column(
            "account_id",
            sa.Integer,
            sa.ForeignKey("staff_accounts.id", ondelete="CASCADE", name="fk_staff_logins_account"),
            nullable=False,
        ),
        _timestamp("created_at"),
        _timestamp("last_seen_at"),
    )
    op.create_index("ix_staff_logins_account_id", "staff_logins", ["account_id"])
    op.create_table(
        "staff_devices",
        sa.Column("token_digest", sa.String(64), primary_key=True),
        sa.Column(
            "account_id",
            sa.Integer,
            sa.ForeignKey("staff_accounts.id", ondelete="CASCADE", name="fk_staff_devices_account"),
            nullable=False,
        ),
        sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
        _timestamp("last_failed_at", nullable=True),
        _timestamp("locked_until", nullable=True),
        _timestamp("created_at"),
        _timestamp("last_login_at", nullable=True),
    )
    op.create_index("ix_staff_devices_account_id", "staff_devices", ["account_id"])
    op.create_table(
        "lead_notes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "lead_id",
            sa.Integer,
            sa.ForeignKey("leads.id", ondelete="CASCADE", name="fk_lead_notes_lead"),
            nullable=False,
        ),
        sa.Column(
            "author_id",
            sa.Integer,
            sa.ForeignKey("staff_accounts.id", ondelete="SET NULL", name="fk_lead_notes_author"),
            nullable=True,
        ),
        sa.Column("author_login", sa.String(320), nullable=False),
        sa.Column("body", sa.Text, nullable=False, server_default=""),
        sa.Column("status_from", sa.String(20), nullable=True),
        sa.Column("status_to", sa.String(20), nullable=True),
        _timestamp("created_at"),
    )
    op.create_index("ix_lead_notes_lead_id", "lead_notes", ["lead_id"])
    op.create_table(
        "staff_audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _timestamp("at"),
        sa.Column(
            "actor_id",
            sa.Integer,
            sa.ForeignKey("staff_accounts.id", ondelete="SET NULL", name="fk_staff_audit_actor"),
            nullable=True,
        ),
        sa.Column("actor_login", sa.String(320), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("lead_id", sa.Integer, nullable=True),
        sa.Column("detail", sa.String(500), nullable=False, server_default=""),
    )
    op.create_index("ix_staff_audit_at", "staff_audit", ["at"])
    op.create_index("ix_staff_audit_lead_id", "staff_audit", ["lead_id"])


def downgrade() -> None:
    op.drop_table("staff_audit")
    op.drop_table("lead_notes")
    op.drop_table("staff_devices")
    op.drop_table("staff_logins")
    op.drop_table("staff_accounts")
