"""Visit confirmations in the outbox: the email telling a visitor staff confirmed their visit.

The outbox gains the channel `visit_email` and a `booking_id` (the row holds the booking's number,
never the visitor's details). A lead keeps one notice per channel; a visit confirmation is one per
booking, so a lead whose visit is moved and confirmed again gets a second one.

Revision ID: 0008_visit_confirmations
Revises: 0007_insights
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_visit_confirmations"
down_revision = "0007_insights"
branch_labels = None
depends_on = None

CHANNELS_BEFORE = ("email", "webhook")
CHANNELS_AFTER = (*CHANNELS_BEFORE, "visit_email")
LEAD_NOTICES_ONLY = sa.text("booking_id IS NULL")


def _channel_check(channels: tuple[str, ...]) -> str:
    return "channel IN (" + ", ".join(f"'{channel}'" for channel in channels) + ")"


def upgrade() -> None:
    # SQLite copies the table to change its constraints; the copy keeps every row and index.
    with op.batch_alter_table("outbox", recreate="auto") as batch:
        batch.add_column(sa.Column("booking_id", sa.Integer(), nullable=True))
        batch.drop_constraint("uq_outbox_lead_channel", type_="unique")
        batch.drop_constraint("outbox_channel", type_="check")
        batch.create_check_constraint("outbox_channel", _channel_check(CHANNELS_AFTER))
        batch.create_unique_constraint("uq_outbox_booking", ["booking_id"])
    op.create_index(
        "uq_outbox_lead_channel", "outbox", ["lead_id", "channel"], unique=True,
        sqlite_where=LEAD_NOTICES_ONLY, postgresql_where=LEAD_NOTICES_ONLY,
    )


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE channel = 'visit_email' OR booking_id IS NOT NULL")
    op.drop_index("uq_outbox_lead_channel", table_name="outbox")
    with op.batch_alter_table("outbox", recreate="auto") as batch:
        batch.drop_constraint("uq_outbox_booking", type_="unique")
        batch.drop_constraint("outbox_channel", type_="check")
        batch.create_check_constraint("outbox_channel", _channel_check(CHANNELS_BEFORE))
        batch.create_unique_constraint("uq_outbox_lead_channel", ["lead_id", "channel"])
        batch.drop_column("booking_id")
