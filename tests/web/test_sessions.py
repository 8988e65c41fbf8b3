"""Rasa sessions renewed every few turns by the relay, against the real Rasa and action server:
the conversation goes on, an inquiry in progress is never cut, and Rasa reads a short session."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.conversation_log import rasa_events
from bot.db import make_engine, make_session_factory
from bot.leads.models import Lead
from bot.staff import transcripts

pytestmark = pytest.mark.rasa


@pytest.fixture
async def chat(client_for, rasa_server):
    client = await client_for(rasa_urls=(rasa_server.url,), rasa_api_token=rasa_server.stack.api_token,
                              rasa_session_turns=3)
    issued: dict[str, str] = {}

    async def say(conversation: str, text: str) -> str:
        body = {"message": text, **({"sender_id": issued[conversation]} if conversation in issued else {})}
        response = await client.post("/api/chat", json=body)
        assert response.status == 200, await response.text()
        answer = await response.json()
        issued[conversation] = answer["sender_id"]
        return "\n".join(message["text"] for message in answer["messages"])

    say.rasa_id = lambda conversation: issued[conversation].split(".")[0]
    return say


def events(rasa_server, sender_id: str) -> list[tuple[str, str | None]]:
    engine = make_engine(rasa_server.settings)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(
                select(rasa_events.c.type_name, rasa_events.c.action_name)
                .where(rasa_events.c.sender_id == sender_id).order_by(rasa_events.c.id))]
    finally:
        engine.dispose()


async def test_a_long_conversation_gets_a_new_session_every_few_turns_and_goes_on(chat, rasa_server):
    for _ in range(8):
        assert "Dual Energy X-ray Absorptiometry" in await chat("faq", "what is a DEXA scan")

    recorded = events(rasa_server, chat.rasa_id("faq"))
    starts = [i for i, (_, name) in enumerate(recorded) if name == "action_session_start"]
    # Rasa's own at the first message, then one every 3 turns: before turns 4 and 7.
    assert len(starts) == 3
    # Rasa now reads a session of two turns, not eight.
    assert [kind for kind, _ in recorded[starts[-1]:]].count("user") == 2
    # Staff see the visitor's eight questions, not the relay's messages to Rasa.
    engine = make_engine(rasa_server.settings)
    try:
        with make_session_factory(engine)() as db:
            shown = transcripts.transcript(db, chat.rasa_id("faq")).turns
    finally:
        engine.dispose()
    assert [turn.text for turn in shown if turn.speaker == "visitor"] == ["what is a DEXA scan"] * 8


async def test_an_inquiry_in_progress_is_never_cut_by_a_new_session(chat, rasa_server):
    for text, expected in [
        ("what is a DEXA scan", "Dual Energy X-ray Absorptiometry"),
        ("what is a DEXA scan", "Dual Energy X-ray Absorptiometry"),
        ("I want to book an appointment", "What name should our staff use"),
        ("Maria Lopez", "phone number or email"),
        ("804-555-0134", "What area would you like help with"),
        ("Hip", "days and times"),
        ("tuesday mornings", "May our clinic staff contact you"),
        ("yes", "Here's what I'll send"),
        ("yes", "Thank you, Maria!"),
    ]:
        assert expected in await chat("inquiry", text)

    engine = make_engine(rasa_server.settings)
    try:
        with make_session_factory(engine)() as db:
            [lead] = db.scalars(select(Lead).where(Lead.conversation_id == chat.rasa_id("inquiry"))).all()
            assert (lead.name, lead.phone, lead.area_of_concern) == ("Maria Lopez", "+18045550134", "Hip")
    finally:
        engine.dispose()
    # Due from the 4th turn on, the new session waits until the inquiry is over.
    assert "Dual Energy X-ray Absorptiometry" in await chat("inquiry", "what is a DEXA scan")
    recorded = events(rasa_server, chat.rasa_id("inquiry"))
    starts = [i for i, (_, name) in enumerate(recorded) if name == "action_session_start"]
    assert len(starts) == 2
    assert [kind for kind, _ in recorded[starts[1]:]].count("user") == 1
