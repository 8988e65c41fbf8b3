"""Staff insights: indexes for counting Rasa's events by period, summaries that are not about a
lead in the outbox, and the weeks whose summary email was queued.

The insights page (bot.insights.queries) counts a period's events by kind: visitor messages (by
time, with their intent and conversation), some actions (an inquiry started, a fallback reply; by
`action_name`) and FAQ answers (`bot` rows naming an `utter_faq/<topic>` response, which would
otherwise mean reading every answer's text). The indexes hold the columns those counts read.
The ones for one kind of row are partial indexes (`WHERE type_name = ...`), never an index that
starts with `type_name`: SQLite, which keeps no statistics, would take such an index for the
`type_name = 'session_started'` part of Rasa's per-turn query, and read every conversation's
session starts at each turn instead of this conversation's (migration 0005). Their conditions are
bot.insights.queries.VISITOR_MESSAGE_ROWS and FAQ_ANSWER_ROWS as they were written here; the
queries repeat them exactly, constants and all, for the databases to use them. Rasa's rows are
never touched.

The outbox's `lead_id` may now be empty: the weekly summary is a notice without a lead.

Revision ID: 0007_insights
Revises: 0006_schedule
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_insights"
down_revision = "0006_schedule"
branch_labels = None
depends_on = None

# Copies, not imports: a migration keeps meaning what it meant when it was written.
VISITOR_MESSAGE_ROWS = "type_name = 'user'"
FAQ_ANSWER_ROWS = "type_name = 'bot' AND data LIKE '%\"utter_action\": \"utter_faq/%'"
# name: (columns, the rows it holds, or None for all)
EVENT_INDEXES = {
    "ix_events_visitor_messages": (["timestamp", "intent_name", "sender_id"], VISITOR_MESSAGE_ROWS),
    "ix_events_action_name_timestamp": (["action_name", "timestamp", "sender_id"], None),
    "ix_events_faq_answers": (["timestamp", "sender_id"], FAQ_ANSWER_ROWS),
}


def upgrade() -> None:
    existing = {index["name"] for index in sa.inspect(op.get_bind()).get_indexes("events")}
    for name, (columns, rows) in EVENT_INDEXES.items():
        if name in existing:
            continue
        where = {"postgresql_where": sa.text(rows), "sqlite_where": sa.text(rows)} if rows else {}
        op.create_index(name, "events", columns, **where)
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
    for name in EVENT_INDEXES:
        op.drop_index(name, table_name="events")
