"""Rasa's `events` table with an index on (sender_id, timestamp), so a turn late in a long
conversation costs what an early one does.

At every turn Rasa 3.6's SQL tracker store reads the current session's events with
`WHERE sender_id = ? AND timestamp >= <the session's start>`; its own index is on sender_id alone,
so each turn read every event the conversation ever had (2 ms per 1,000 events, on each of the
queries of a turn). Rasa creates the table on its first start and skips it when it exists, so the
table is created here with Rasa 3.6's own columns when Rasa has not made it yet; either way the
index is added. Rows are never touched.

Revision ID: 0005_rasa_events_index
Revises: 0004_lead_numbers_never_reused
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_rasa_events_index"
down_revision = "0004_lead_numbers_never_reused"
branch_labels = None
depends_on = None

INDEX = "ix_events_sender_id_timestamp"


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table("events"):
        # As rasa.core.tracker_store.SQLTrackerStore.SQLEvent declares it.
        op.create_table(
            "events",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("sender_id", sa.String(255), nullable=False),
            sa.Column("type_name", sa.String(255), nullable=False),
            sa.Column("timestamp", sa.Float),
            sa.Column("intent_name", sa.String(255)),
            sa.Column("action_name", sa.String(255)),
            sa.Column("data", sa.Text),
        )
        op.create_index("ix_events_sender_id", "events", ["sender_id"])
    elif INDEX in {index["name"] for index in inspector.get_indexes("events")}:
        return
    op.create_index(INDEX, "events", ["sender_id", "timestamp"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="events")
