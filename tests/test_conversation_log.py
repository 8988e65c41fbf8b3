"""A withdrawn inquiry leaves none of the visitor's details in Rasa's conversation log."""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import command

from bot.conversation_log import REMOVED_TEXT, ConversationLog
from bot.db import alembic_config, make_engine, make_session_factory, upgrade_database
from bot.settings import Settings
from tests.staff import rasa_events as rasa

START = 1_764_000_000.0
DETAILS = ["Maria Lopez", "804-555-0134", "knee", "Knee", "weekday mornings", "+18045550134"]


def _inquiry(start: float) -> list[dict]:
    return [
        rasa.user("what is a dexa scan", "faq", start),
        rasa.bot("A DEXA scan is the test for osteoporosis.", start + 1, utter="utter_faq"),
        rasa.user("can I book in for my knee", "request_appointment", start + 10),
        rasa.action("action_start_inquiry", start + 11),
        rasa.bot("Happy to help you book.", start + 11.1, utter="utter_inquiry_intro_appointment"),
        rasa.slot("area_of_concern", "Knee", start + 11.2),
        rasa.action("inquiry_form", start + 11.3),
        rasa.slot("requested_slot", "lead_name", start + 11.4),
        rasa.user("Maria Lopez", "inform", start + 20),
        rasa.slot("lead_name", "Maria Lopez", start + 20.1),
        rasa.user("804-555-0134", "inform", start + 30),
        rasa.slot("contact", "804-555-0134", start + 30.1),
        rasa.slot("contact_phone", "+18045550134", start + 30.2),
        rasa.user("weekday mornings", "inform", start + 40),
        rasa.slot("preferred_times", "weekday mornings", start + 40.1),
        rasa.bot("Here's what I'll send: Maria Lopez, (804) 555-0134, Knee, weekday mornings", start + 41),
    ]


def _rows(engine: sa.Engine, sender: str) -> list[tuple[str, dict]]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(rasa.EVENTS.c.type_name, rasa.EVENTS.c.data)
            .where(rasa.EVENTS.c.sender_id == sender).order_by(rasa.EVENTS.c.id)
        )
        return [(row.type_name, json.loads(row.data)) for row in rows]


def test_the_withdrawn_inquiry_is_blanked_and_the_rest_kept(tmp_path, database_url):
    engine = make_engine(Settings(data_dir=tmp_path, database_url=database_url))
    rasa.create_events_table(engine)
    rasa.insert_events(engine, "withdrawn", _inquiry(START))
    rasa.insert_events(engine, "someone-else", _inquiry(START))
    before = len(_rows(engine, "withdrawn"))

    changed = ConversationLog(make_session_factory(engine)).forget_inquiry("withdrawn")

    rows = _rows(engine, "withdrawn")
    stored = json.dumps([data for _, data in rows])
    assert len(rows) == before, "Rasa counts the stored rows to append the next turn's: none may go"
    assert not [detail for detail in DETAILS if detail in stored]
    assert changed == 11
    assert rows[0][1]["text"] == "what is a dexa scan" and rows[1][1]["text"].startswith("A DEXA scan")
    assert rows[2][1]["text"] == REMOVED_TEXT and rows[2][1]["parse_data"]["intent"]["name"] == "request_appointment"
    assert [data["value"] for kind, data in rows if kind == "slot"] == [None, "lead_name", None, None, None, None]
    assert "Maria Lopez" in json.dumps([data for _, data in _rows(engine, "someone-else")])
    engine.dispose()


def test_nothing_to_forget_without_an_inquiry_or_a_log(tmp_path, database_url):
    engine = make_engine(Settings(data_dir=tmp_path, database_url=database_url))
    log = ConversationLog(make_session_factory(engine))
    assert log.forget_inquiry("nobody") == 0
    rasa.create_events_table(engine)
    rasa.insert_events(engine, "questions-only", _inquiry(START)[:2])
    assert log.forget_inquiry("questions-only") == 0
    assert _rows(engine, "questions-only")[0][1]["text"] == "what is a dexa scan"
    engine.dispose()


# What Rasa 3.6's SQL tracker store runs at every turn (SQLTrackerStore._event_query): the events
# of the conversation's current session.
RASA_TURN_QUERY = (
    "SELECT events.id, events.data FROM events, (SELECT max(events.timestamp) AS session_start FROM events "
    "WHERE events.sender_id = 'long' AND events.type_name = 'session_started') AS anon_1 "
    "WHERE events.sender_id = 'long' AND (events.timestamp >= anon_1.session_start OR anon_1.session_start IS NULL) "
    "ORDER BY events.id"
)


def _indexes(engine: sa.Engine) -> dict[str, list[str]]:
    return {index["name"]: index["column_names"] for index in sa.inspect(engine).get_indexes("events")}


def test_migrating_creates_rasas_table_with_the_index_its_turns_need(tmp_path, database_url):
    engine = make_engine(Settings(data_dir=tmp_path, database_url=database_url))
    upgrade_database(engine)
    columns = {column["name"] for column in sa.inspect(engine).get_columns("events")}
    assert columns == {"id", "sender_id", "type_name", "timestamp", "intent_name", "action_name", "data"}
    assert _indexes(engine) == {"ix_events_sender_id": ["sender_id"],
                                "ix_events_sender_id_timestamp": ["sender_id", "timestamp"],
                                # The insights' (migration 0007): partial, and none Rasa's turn may take.
                                "ix_events_visitor_messages": ["timestamp", "intent_name", "sender_id"],
                                "ix_events_action_name_timestamp": ["action_name", "timestamp", "sender_id"],
                                "ix_events_faq_answers": ["timestamp", "sender_id"]}
    # Rasa writes into the table as it would into its own.
    rasa.insert_events(engine, "long", _inquiry(START))
    assert len(_rows(engine, "long")) == len(_inquiry(START))
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            plan = [str(row[-1]) for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + RASA_TURN_QUERY)]
        # The timestamps are read from the index: only the session's rows are fetched.
        searches = [step for step in plan if step.startswith("SEARCH events")]
        assert searches and all("ix_events_sender_id_timestamp" in step for step in searches), plan
    engine.dispose()


def test_a_table_rasa_made_before_gets_the_index_and_keeps_its_rows(tmp_path, database_url):
    engine = make_engine(Settings(data_dir=tmp_path, database_url=database_url))
    command.upgrade(alembic_config(engine), "0004_lead_numbers_never_reused")
    rasa.create_events_table(engine)
    rasa.insert_events(engine, "earlier", _inquiry(START))
    upgrade_database(engine)
    assert _indexes(engine)["ix_events_sender_id_timestamp"] == ["sender_id", "timestamp"]
    assert len(_rows(engine, "earlier")) == len(_inquiry(START))
    upgrade_database(engine)  # again: nothing to do
    engine.dispose()
