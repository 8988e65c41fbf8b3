"""Staff insights: indexes for counting Rasa's events by period, summaries that are not about a
lead in the outbox, and the weeks whose summary email was queued.

The insights page (bot.insights.queries) counts a period's events by kind: visitor messages
(`type_name` 'user', read with their intent and conversation) and some actions (an inquiry
started, a fallback reply; by `action_name`). Both indexes hold every column those counts read,
so they are answered from the index alone. FAQ answers (`bot` rows naming an `utter_faq/<topic>`
response) get a partial index of their own: finding them otherwise means reading every answer's
text. Its condition is bot.insights.queries.FAQ_ANSWER_ROWS as it was written here; the queries
must repeat it exactly for the databases to use the index. Rasa's rows are never touched.

The outbox's `lead_id` may now be empty: the weekly summary is a notice without a lead.

Revision ID: 0007_insights
Revises: 0005_rasa_events_index
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_insights"
down_revision = "0005_rasa_events_index"
branch_labels = None
depends_on = None

EVENT_INDEXES = {
    "ix_events_type_name_timestamp": ["type_name", "timestamp", "intent_name", "sender_id"],
    "ix_events_action_name_timestamp": ["action_name", "timestamp", "sender_id"],
}
FAQ_INDEX = "ix_events_faq_answers"
# A copy, not an import: a migration keeps meaning what it meant when it was written.
FAQ_ANSWER_ROWS = "type_name = 'bot' AND data LIKE '%\"utter_action\": \"utter_faq/%'"


def upgrade() -> None:
    existing = {index["name"] for index in sa.inspect(op.get_bind()).get_indexes("events")}
    for name, columns in EVENT_INDEXES.items():
        if name not in existing:
            op.create_index(name, "events", columns)
    if FAQ_INDEX not in existing:
        condition = sa.text(FAQ_ANSWER_ROWS)
        # type_name first, though every row has the same: SQLite then prefers this index to the one above.
        op.create_index(FAQ_INDEX, "events", ["type_name", "timestamp", "sender_id"], postgresql_where=condition,
                        sqlite_where=condition)
    with op.batch_alter_table("outbox") as outbox:
        outbox.alter_column("lead_id", existing_type=sa.Integer(), nullable=True)
    op.create_table(
        "insights_weekly_summaries",
        sa.Column("week_start", sa.Date(), primary_key=True),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("insights_weekly_summaries")
    # Summaries have no lead to keep them by.
    op.execute("DELETE FROM outbox WHERE lead_id IS NULL")
    with op.batch_alter_table("outbox") as outbox:
        outbox.alter_column("lead_id", existing_type=sa.Integer(), nullable=False)
    for name in [*EVENT_INDEXES, FAQ_INDEX]:
        op.drop_index(name, table_name="events")
