"""Two Rasa servers sharing PostgreSQL and Redis: conversations survive moving between them.

Every conversation's turns alternate between the two servers. A turn bound for the server the
web app picks for that visitor goes through `POST /api/chat`; a turn bound for the other server
goes straight to its REST webhook, as it would after a fail-over. Afterwards Rasa's own tracker
store (the PostgreSQL `events` table) must hold every turn once, in the order sent, and the
`leads` table every completed inquiry once.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from dataclasses import dataclass, field

import aiohttp
import pytest
import sqlalchemy as sa

from bot.web.chat import server_order

pytestmark = [pytest.mark.postgres, pytest.mark.rasa]

VISITORS = 20
FORM_VISITORS = 4
# Each a question that has its own answer, so a turn answered by the wrong state stands out.
FAQ_TURNS = [
    ("hello", "clinic's assistant"),
    ("what is a dexa scan", "Dual Energy X-ray"),
    ("which foods have a lot of calcium", "Dairy"),
    ("thanks, bye", "Take care"),
]
FORM_NAMES = ["Maria Lopez", "Dorothy Hale", "Ruth Ashby", "Ellen Park"]
TIMEOUT = aiohttp.ClientTimeout(total=60)


@dataclass
class Conversation:
    sender_id: str
    turns: list[str] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    servers: list[str] = field(default_factory=list)
    via_web_app: int = 0


def _sender(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


async def _send(session: aiohttp.ClientSession, scale_out, conversation: Conversation, text: str) -> str:
    """Sends the next turn to the other server than the last one; returns the answer's text."""
    turn = len(conversation.turns)
    first = int(conversation.sender_id[-1], 16) % 2
    server = scale_out.rasa_urls[(first + turn) % 2]
    if server == server_order(conversation.sender_id, scale_out.rasa_urls)[0]:
        # "/affirm" is the payload of the yes button the assistant offered: pressed, it goes back signed.
        said = {"payload": scale_out.signers.sign_button(text)} if text.startswith("/") else {"message": text}
        async with session.post(f"{scale_out.web_url}/api/chat",
                                json={"sender_id": scale_out.signers.conversations.sign(conversation.sender_id).decode(),
                                      **said}) as response:
            assert response.status == 200, f"the web app answered {response.status}: {await response.text()}"
            messages = (await response.json())["messages"]
        conversation.via_web_app += 1
    else:
        async with session.post(f"{server}/webhooks/rest/webhook",
                                json={"sender": conversation.sender_id, "message": text}) as response:
            assert response.status == 200, f"{server} answered {response.status}: {await response.text()}"
            messages = await response.json()
    conversation.turns.append(text)
    conversation.servers.append(server)
    answer = "\n".join(message.get("text") or "" for message in messages)
    conversation.answers.append(answer)
    return answer


def _transcripts(database_url: str, sender_ids: list[str]) -> dict[str, list[tuple[str, str]]]:
    """(event type, text or action name) per conversation, in the order Rasa stored them."""
    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT sender_id, type_name, action_name, data FROM events "
                        "WHERE sender_id = ANY(:ids) ORDER BY id"),
                {"ids": sender_ids},
            ).all()
    finally:
        engine.dispose()
    transcripts: dict[str, list[tuple[str, str]]] = {sender_id: [] for sender_id in sender_ids}
    for sender_id, type_name, action_name, data in rows:
        if type_name == "user":
            transcripts[sender_id].append(("user", json.loads(data).get("text")))
        elif type_name == "action":
            transcripts[sender_id].append(("action", action_name))
    return transcripts


def _assert_whole(conversation: Conversation, transcript: list[tuple[str, str]]) -> None:
    said = [text for kind, text in transcript if kind == "user"]
    assert said == conversation.turns, (
        f"{conversation.sender_id}: stored user turns {said} differ from the turns sent {conversation.turns}"
    )
    # Each turn was handled to the end (back to listening) before the next one was taken.
    user_positions = [i for i, (kind, _) in enumerate(transcript) if kind == "user"]
    for start, end in zip(user_positions, [*user_positions[1:], len(transcript)]):
        handled = transcript[start + 1:end]
        assert handled and handled[-1] == ("action", "action_listen"), (
            f"{conversation.sender_id}: turn {transcript[start][1]!r} was not handled to the end: {handled}"
        )


def _lock_store_writes(scale_out) -> int:
    stats = scale_out.redis.command("INFO", "commandstats").decode(errors="replace")
    match = re.search(r"^cmdstat_set:calls=(\d+)", stats, re.MULTILINE)
    return int(match.group(1)) if match else 0


async def test_alternating_turns_are_stored_once_in_order(scale_out) -> None:
    writes_before = _lock_store_writes(scale_out)
    conversations = [Conversation(_sender("scaleout")) for _ in range(VISITORS)]

    async def visit(session: aiohttp.ClientSession, conversation: Conversation) -> None:
        for text, expected in FAQ_TURNS:
            answer = await _send(session, scale_out, conversation, text)
            assert expected in answer, f"{conversation.sender_id}: {text!r} was answered with {answer!r}"

    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        await asyncio.gather(*(visit(session, conversation) for conversation in conversations))

    for conversation in conversations:
        assert set(conversation.servers) == set(scale_out.rasa_urls)
        assert all(a != b for a, b in zip(conversation.servers, conversation.servers[1:]))
    assert sum(conversation.via_web_app for conversation in conversations) == VISITORS * len(FAQ_TURNS) // 2

    transcripts = _transcripts(scale_out.database_url, [c.sender_id for c in conversations])
    for conversation in conversations:
        _assert_whole(conversation, transcripts[conversation.sender_id])
    # Rasa's Redis lock store writes each message's conversation lock twice: taking a ticket and
    # giving it back. Fewer writes would mean a server kept its locks to itself.
    assert _lock_store_writes(scale_out) - writes_before >= 2 * VISITORS * len(FAQ_TURNS)


async def test_inquiries_completed_across_servers_are_stored_once(scale_out) -> None:
    conversations = [Conversation(_sender("scaleout-lead")) for _ in range(FORM_VISITORS)]

    async def inquire(session: aiohttp.ClientSession, conversation: Conversation, name: str, phone: str) -> None:
        steps = [
            ("i'd like to book an appointment", "What name should our staff use"),
            (name, "best phone number or email"),
            (phone, "What area would you like help with"),
            ("Lower back", "days and times suit you"),
            ("weekday mornings", "May our clinic staff contact you"),
            ("/affirm", "Here's what I'll send"),
            ("/affirm", f"Thank you, {name.split()[0]}!"),
        ]
        for text, expected in steps:
            answer = await _send(session, scale_out, conversation, text)
            assert expected in answer, f"{conversation.sender_id}: {text!r} was answered with {answer!r}"

    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        await asyncio.gather(*(
            inquire(session, conversation, FORM_NAMES[i], f"804-555-0{130 + i}")
            for i, conversation in enumerate(conversations)
        ))

    transcripts = _transcripts(scale_out.database_url, [c.sender_id for c in conversations])
    for conversation in conversations:
        assert set(conversation.servers) == set(scale_out.rasa_urls)
        _assert_whole(conversation, transcripts[conversation.sender_id])
        assert ("action", "action_submit_inquiry") in transcripts[conversation.sender_id]

    engine = sa.create_engine(scale_out.database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as connection:
            leads = connection.execute(
                sa.text("SELECT conversation_id, kind, name, phone, area_of_concern, preferred_times FROM leads "
                        "WHERE conversation_id = ANY(:ids)"),
                {"ids": [c.sender_id for c in conversations]},
            ).all()
    finally:
        engine.dispose()
    by_conversation: dict[str, list] = {}
    for lead in leads:
        by_conversation.setdefault(lead.conversation_id, []).append(lead)
    for i, conversation in enumerate(conversations):
        stored = by_conversation.get(conversation.sender_id, [])
        assert len(stored) == 1, f"{conversation.sender_id}: {len(stored)} leads stored"
        lead = stored[0]
        assert (lead.kind, lead.name, lead.phone, lead.preferred_times) == (
            "appointment", FORM_NAMES[i], f"+18045550{130 + i}", "weekday mornings"
        )
        assert "back" in lead.area_of_concern.lower()
