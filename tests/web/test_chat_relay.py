"""POST /api/chat: validation before Rasa, the relay's answer shape, Rasa failures, stickiness."""

from __future__ import annotations

import asyncio
import json
import logging
import re

import pytest

from bot.web.chat import MAX_BODY_BYTES, server_order
from bot.web.keys import CHAT_SIGNERS

from tests.web.stand_ins import closed_url

SENDER = "visitor-0123456789"


def signed(client, sender_id: str) -> str:
    """The conversation id as this web app would have issued it."""
    return client.server.app[CHAT_SIGNERS].conversations.sign(sender_id).decode()


def unsigned(client, payload: str) -> str:
    return client.server.app[CHAT_SIGNERS].button_payload(payload)


async def post_chat(client, sender_id=SENDER, message="hello"):
    return await client.post("/api/chat", json={"sender_id": signed(client, sender_id), "message": message})


async def test_relays_the_message_and_returns_rasas_answer(client, rasa):
    response = await post_chat(client, message="  What is a DEXA scan?  ")

    assert response.status == 200
    body = await response.json()
    assert rasa.received == [{"sender": SENDER, "message": "What is a DEXA scan?"}]
    assert body["messages"][0]["text"].startswith("A DEXA scan (Dual Energy X-ray Absorptiometry)")
    [button] = body["messages"][0]["buttons"]
    assert button["title"] == "T-score and Z-score"
    assert unsigned(client, button["payload"]) == "What do T-score and Z-score mean?"
    assert response.headers["Cache-Control"] == "no-store"


async def test_answer_drops_recipient_id_images_and_odd_buttons(client, rasa):
    rasa.reply = lambda sender, message: [
        {"recipient_id": sender, "text": "First line\nSecond line"},
        {"recipient_id": sender, "image": "https://example.org/bones.png"},
        {"recipient_id": sender, "custom": {"kind": "card"}},
        {
            "recipient_id": sender,
            "text": "Pick one",
            "buttons": [
                {"title": "Vitamin D", "payload": "/faq_vitamin_d", "type": "postback"},
                {"title": "No payload"},
                {"title": "", "payload": "/empty_title"},
                {"title": 5, "payload": "/not_text"},
            ],
        },
        {"recipient_id": sender, "buttons": [{"title": "Yes", "payload": "/affirm"}]},
    ]

    response = await post_chat(client)

    assert response.status == 200
    messages = (await response.json())["messages"]
    for message in messages:
        for button in message["buttons"]:
            button["payload"] = unsigned(client, button["payload"])
    assert messages == [
        {"text": "First line\nSecond line", "buttons": []},
        {"text": "Pick one", "buttons": [{"title": "Vitamin D", "payload": "/faq_vitamin_d"}]},
        {"text": "", "buttons": [{"title": "Yes", "payload": "/affirm"}]},
    ]


@pytest.mark.parametrize("answer", [[], [{"recipient_id": SENDER, "image": "https://example.org/bones.png"}]])
async def test_rasa_saying_nothing_answers_503_with_the_phone_number(client, rasa, answer):
    # What Rasa answers while the action server is down: the turn recorded, nothing said.
    rasa.reply = lambda sender, message: answer

    response = await post_chat(client)

    assert response.status == 503
    assert (await response.json())["error"] == (
        "Sorry, the assistant is unavailable for a moment. Please send your message again shortly, "
        "or call us at (804) 493-3256."
    )
    assert len(rasa.received) == 1


async def test_a_message_of_exactly_1000_characters_is_relayed(client, rasa):
    text = "b" * 1000

    response = await post_chat(client, message=text)

    assert response.status == 200
    assert rasa.messages == [text]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"", "must be JSON"),
        (b"hello there", "must be JSON"),
        (b'{"sender_id": "visitor-0123456789", "message": "hi"', "must be JSON"),
        (b"\xff\xfe", "must be JSON"),
        (b'"just a string"', "JSON object"),
        (b'["visitor-0123456789", "hi"]', "JSON object"),
        (b"null", "JSON object"),
        (b'{"sender_id": "visitor-0123456789"}', '"message" is missing'),
        (b'{"message": "hi", "payload": "x"}', "not both"),
        (b'{"sender_id": 12345678, "message": "hi"}', '"sender_id" must be a string'),
        (b'{"sender_id": "visitor-0123456789", "message": null}', '"message" must be a string'),
        (b'{"sender_id": "visitor-0123456789", "message": ["hi"]}', '"message" must be a string'),
        (b'{"sender_id": "short", "message": "hi"}', "conversation id this server issued"),
        (json.dumps({"sender_id": "v" * 129, "message": "hi"}).encode(), "conversation id this server issued"),
        (b'{"sender_id": "../../etc/passwd", "message": "hi"}', "conversation id this server issued"),
        (b'{"sender_id": "visitor 0123456789", "message": "hi"}', "conversation id this server issued"),
        # An id the browser chose (or copied from a lead page) was never issued here.
        (b'{"sender_id": "visitor-0123456789", "message": "hi"}', "not started here"),
        (b'{"sender_id": "visitor-0123456789.forgedsignature", "message": "hi"}', "not started here"),
        (b'{"message": "/"}', "empty"),
        (b'{"message": " // "}', "empty"),
        (b'{"payload": "/affirm"}', "not offered here"),
        (b'{"payload": ""}', "not offered here"),
        (b'{"payload": 5}', '"payload" must be a string'),
        (b"[" * 5000 + b"]" * 5000, "must be JSON"),
        (b'{"message": ' + b"[" * 5000 + b"]" * 5000 + b"}", "must be JSON"),
        (b'{"sender_id": "visitor-0123456789", "message": ""}', "empty"),
        (b'{"sender_id": "visitor-0123456789", "message": "  \\n\\t "}', "empty"),
        (json.dumps({"sender_id": SENDER, "message": "a" * 1001}).encode(), "longer than 1,000 characters"),
        (b'{"message": "hello \\ud800 there"}', "characters that are not text"),
        (b'{"message": "\\udfff"}', "characters that are not text"),
    ],
)
async def test_bad_requests_get_400_and_never_reach_rasa(client, rasa, body, error):
    response = await client.post("/api/chat", data=body, headers={"Content-Type": "application/json"})

    assert response.status == 400
    payload = await response.json()
    assert error in payload["error"]
    assert rasa.received == []


async def test_1000_emoji_escaped_by_json_dumps_are_relayed(client, rasa):
    text = "\N{GRINNING FACE}" * 1000
    body = json.dumps({"sender_id": signed(client, SENDER), "message": text}).encode()
    assert body.isascii() and len(body) > 12_000  # each one written as \ud83d\ude00

    response = await client.post("/api/chat", data=body, headers={"Content-Type": "application/json"})

    assert response.status == 200
    assert rasa.messages == [text]


async def test_an_oversized_body_gets_400_and_never_reaches_rasa(client, rasa):
    body = json.dumps({"sender_id": SENDER, "message": "x" * (MAX_BODY_BYTES * 2)}).encode()

    response = await client.post("/api/chat", data=body, headers={"Content-Type": "application/json"})

    assert response.status == 400
    assert "too large" in (await response.json())["error"]
    assert rasa.received == []


async def test_a_huge_declared_body_is_refused_without_waiting_for_it(client, rasa):
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    try:
        writer.write(
            b"POST /api/chat HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100000000\r\n\r\n" + b'{"sender_id": "visitor-0123456789", "message": "'
        )
        await writer.drain()
        # The rest of the 100 MB never comes: an answer at all shows the body was not awaited.
        status_line = await asyncio.wait_for(reader.readline(), timeout=5)
    finally:
        writer.close()

    assert status_line.split()[1] == b"400"
    assert rasa.received == []


async def test_an_oversized_chunked_body_is_refused_before_rasa(client, rasa):
    async def chunks():
        yield b'{"sender_id": "visitor-0123456789", "message": "'
        for _ in range(4):
            yield b"y" * MAX_BODY_BYTES
        yield b'"}'

    response = await client.post("/api/chat", data=chunks(), headers={"Content-Type": "application/json"})

    assert response.status == 400
    assert "too large" in (await response.json())["error"]
    assert rasa.received == []


async def test_other_methods_get_a_json_error(client, rasa):
    response = await client.get("/api/chat")

    assert response.status == 405
    assert response.headers["Allow"] == "POST"
    assert "error" in await response.json()


async def test_rasa_unreachable_answers_503_with_the_phone_number(client_for):
    client = await client_for(rasa_urls=(closed_url(),), clinic_phone="(555) 010-2000")

    response = await post_chat(client)

    assert response.status == 503
    body = await response.json()
    assert body["phone"] == "(555) 010-2000"
    assert "unavailable" in body["error"] and "(555) 010-2000" in body["error"]


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_rasa_server_error_answers_503(client, rasa, status):
    rasa.status = status

    response = await post_chat(client)

    assert response.status == 503
    assert (await response.json())["phone"] == "(804) 493-3256"
    assert len(rasa.received) == 1


async def test_rasa_answering_garbage_answers_503(client, rasa):
    rasa.reply = lambda sender, message: {"not": "a list"}

    response = await post_chat(client)

    assert response.status == 503


async def test_rasa_too_slow_answers_503_and_is_not_sent_elsewhere(client_for, start_stand_in):
    first, second = await start_stand_in("first"), await start_stand_in("second")
    urls = (first.url, second.url)
    sender = next(f"visitor-{n:08d}" for n in range(100) if server_order(f"visitor-{n:08d}", urls)[0] == first.url)
    first.hold = asyncio.Event()
    client = await client_for(rasa_urls=urls, rasa_timeout_seconds=0.3)
    try:
        response = await post_chat(client, sender_id=sender)
    finally:
        first.hold.set()

    assert response.status == 503
    assert first.senders == [sender]
    # The slow server may still record the turn: sending it to another would record it twice.
    assert second.received == []


async def test_a_conversation_sticks_to_one_server(client_for, start_stand_in):
    first, second = await start_stand_in("first"), await start_stand_in("second")
    client = await client_for(rasa_urls=(first.url, second.url))
    senders = [f"visitor-{n:08d}" for n in range(12)]

    for turn in range(3):
        for sender in senders:
            response = await post_chat(client, sender_id=sender, message=f"turn {turn}")
            assert response.status == 200

    served_by_first = set(first.senders)
    served_by_second = set(second.senders)
    assert served_by_first and served_by_second, "both servers take conversations"
    assert served_by_first.isdisjoint(served_by_second), "no conversation moves between healthy servers"
    assert served_by_first | served_by_second == set(senders)
    for stand_in in (first, second):
        for sender in set(stand_in.senders):
            turns = [body["message"] for body in stand_in.received if body["sender"] == sender]
            assert turns == ["turn 0", "turn 1", "turn 2"]


async def test_a_failing_server_hands_its_conversations_to_the_next(client_for, start_stand_in):
    first, second = await start_stand_in("first"), await start_stand_in("second")
    urls = (first.url, second.url)
    sender = next(f"visitor-{n:08d}" for n in range(100) if server_order(f"visitor-{n:08d}", urls)[0] == first.url)
    first.status = 503
    client = await client_for(rasa_urls=urls)

    response = await post_chat(client, sender_id=sender, message="hello")

    assert response.status == 200
    assert (await response.json())["messages"][0]["text"] == "second heard: hello"
    assert first.senders == [sender]
    assert second.senders == [sender]


async def test_a_stopped_server_hands_its_conversations_to_the_next(client_for, start_stand_in):
    running = await start_stand_in("running")
    client = await client_for(rasa_urls=(closed_url(), running.url))
    senders = [f"visitor-{n:08d}" for n in range(8)]

    for sender in senders:
        response = await post_chat(client, sender_id=sender)
        assert response.status == 200

    assert sorted(running.senders) == senders


async def test_only_one_other_server_is_tried(client_for, start_stand_in):
    servers = [await start_stand_in(f"server{n}") for n in range(3)]
    for server in servers:
        server.status = 500
    client = await client_for(rasa_urls=tuple(server.url for server in servers))

    response = await post_chat(client)

    assert response.status == 503
    assert sorted(len(server.received) for server in servers) == [0, 1, 1]


def test_server_order_is_stable_and_spreads_conversations():
    urls = ("http://a", "http://b", "http://c")
    firsts = {server_order(f"visitor-{n:08d}", urls)[0] for n in range(60)}

    assert firsts == set(urls)
    assert server_order(SENDER, urls) == server_order(SENDER, urls)
    primary, fallback = server_order(SENDER, urls)
    assert urls[(urls.index(primary) + 1) % 3] == fallback
    assert server_order(SENDER, ("http://only",)) == ["http://only"]


async def test_message_text_and_sender_never_reach_the_info_log(client_for, rasa, caplog):
    caplog.set_level(logging.INFO)
    client = await client_for(rasa_urls=(closed_url(), rasa.url))
    rasa.status = 500
    secret_sender = "visitor-SECRETSENDER"
    secret_text = "my name is Jane Roe and my hip hurts"

    await post_chat(client, sender_id=secret_sender, message=secret_text)

    assert "failed" in caplog.text  # the failures themselves are logged
    assert secret_sender not in caplog.text
    assert "Jane Roe" not in caplog.text


async def test_the_first_message_gets_a_conversation_id_from_the_server(client, rasa):
    first = await client.post("/api/chat", json={"message": "hello"})
    issued = (await first.json())["sender_id"]
    second = await client.post("/api/chat", json={"sender_id": issued, "message": "again"})
    other = await client.post("/api/chat", json={"message": "someone else"})

    assert (first.status, second.status) == (200, 200)
    assert (await second.json())["sender_id"] == issued
    # Rasa knows the conversation by the random part alone, the same for both turns.
    assert rasa.senders[0] == rasa.senders[1] == issued.split(".")[0]
    assert re.fullmatch(r"[0-9a-f]{32}", rasa.senders[0])
    assert rasa.senders[2] != rasa.senders[0]


async def test_the_conversation_id_comes_back_with_a_failure_too(client, rasa):
    rasa.status = 500

    response = await client.post("/api/chat", json={"message": "hello"})

    assert response.status == 503
    assert (await response.json())["sender_id"].split(".")[0] == rasa.senders[0]


@pytest.mark.parametrize(
    ("typed", "relayed"),
    [
        ("/restart", "restart"),
        ('/inform{"lead_name": "Mallory"}', 'inform{"lead_name": "Mallory"}'),
        ("  //affirm", "affirm"),
        ("what does 1/2 cup of milk give me", "what does 1/2 cup of milk give me"),
    ],
)
async def test_typed_text_never_reaches_rasa_as_a_command(client, rasa, typed, relayed):
    response = await post_chat(client, message=typed)

    assert response.status == 200
    assert rasa.messages == [relayed]


async def test_only_the_buttons_offered_reach_rasa_as_payloads(client, rasa):
    rasa.reply = lambda sender, message: [
        {"recipient_id": sender, "text": "May we contact you?", "buttons": [
            {"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": '/deny{"reason": "none"}'}]},
    ]
    offered = (await (await post_chat(client)).json())["messages"][0]["buttons"]

    pressed = await client.post("/api/chat", json={"sender_id": signed(client, SENDER), "payload": offered[1]["payload"]})
    forged = await client.post(
        "/api/chat", json={"sender_id": signed(client, SENDER), "payload": offered[1]["payload"].replace("none", "x")}
    )

    assert pressed.status == 200
    assert forged.status == 400 and "not offered here" in (await forged.json())["error"]
    assert rasa.messages == ["hello", '/deny{"reason": "none"}']


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", ""])
async def test_only_json_is_accepted(client, rasa, content_type):
    body = json.dumps({"sender_id": signed(client, SENDER), "message": "hi"}).encode()

    response = await client.post("/api/chat", data=body, headers={"Content-Type": content_type} if content_type else {})

    assert response.status == 415
    assert "application/json" in (await response.json())["error"]
    assert rasa.received == []


async def test_a_conversation_sending_too_fast_gets_429_and_rasa_never_sees_it(client_for, rasa):
    client = await client_for(rasa_urls=(rasa.url,), chat_rate_per_conversation="3/minute")

    statuses = [(await post_chat(client, message=f"turn {n}")).status for n in range(3)]
    refused = await post_chat(client, message="turn 3")
    other = await post_chat(client, sender_id="visitor-another-one", message="hello")

    assert statuses == [200, 200, 200]
    assert refused.status == 429 and other.status == 200
    body = await refused.json()
    assert body["error"] == (
        "You're sending messages faster than I can answer them. Please wait a minute and send it again, "
        "or call us at (804) 493-3256."
    )
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert rasa.messages == ["turn 0", "turn 1", "turn 2", "hello"]


async def test_one_client_sending_too_fast_gets_429_whatever_the_conversation(client_for, rasa):
    client = await client_for(rasa_urls=(rasa.url,), chat_rate_per_client="4/second")

    statuses = [(await client.post("/api/chat", json={"message": f"new {n}"})).status for n in range(5)]
    # Refused requests are counted too: junk does not get through the limit either.
    junk = await client.post("/api/chat", data=b"junk", headers={"Content-Type": "application/json"})
    await asyncio.sleep(1.1)
    later = await client.post("/api/chat", json={"message": "a second later"})

    assert statuses == [200, 200, 200, 200, 429]
    assert junk.status == 429 and later.status == 200
    assert rasa.messages == ["new 0", "new 1", "new 2", "new 3", "a second later"]


async def test_behind_a_proxy_the_forwarded_address_is_the_client(client_for, rasa):
    client = await client_for(rasa_urls=(rasa.url,), chat_rate_per_client="1/minute", trust_x_forwarded_for=True)

    def from_address(address: str):
        return client.post("/api/chat", json={"message": "hi"}, headers={"X-Forwarded-For": f"6.6.6.6, {address}"})

    first, second, again = await from_address("203.0.113.1"), await from_address("203.0.113.2"), await from_address(
        "203.0.113.1")

    assert (first.status, second.status, again.status) == (200, 200, 429)


async def test_when_rasa_is_swamped_the_overflow_hears_busy_at_once(client_for, rasa):
    rasa.hold = asyncio.Event()
    client = await client_for(rasa_urls=(rasa.url,), chat_max_in_flight=2, chat_max_queued=1)
    waiting = [asyncio.create_task(post_chat(client, sender_id=f"visitor-{n:08d}", message=f"m{n}")) for n in range(3)]
    while len(rasa.received) < 2:
        await asyncio.sleep(0.01)

    started = asyncio.get_running_loop().time()
    busy = await post_chat(client, sender_id="visitor-busybusy", message="one too many")
    took = asyncio.get_running_loop().time() - started
    rasa.hold.set()
    answered = [await task for task in waiting]

    assert busy.status == 503 and took < 0.5
    assert (await busy.json())["error"].startswith("Sorry, the assistant is busy with many visitors right now.")
    assert busy.headers["Retry-After"] == "5"
    assert [response.status for response in answered] == [200, 200, 200]
    assert sorted(rasa.messages) == ["m0", "m1", "m2"]


async def test_a_conversation_past_its_turns_is_told_to_start_a_new_one(client_for, rasa):
    client = await client_for(rasa_urls=(rasa.url,), chat_turns_per_conversation="2/day")
    first = await client.post("/api/chat", json={"message": "one"})
    issued = (await first.json())["sender_id"]
    second = await client.post("/api/chat", json={"sender_id": issued, "message": "two"})

    capped = await client.post("/api/chat", json={"sender_id": issued, "message": "three"})
    fresh = await client.post("/api/chat", json={"message": "three"})

    assert (first.status, second.status, capped.status, fresh.status) == (200, 200, 429, 200)
    body = await capped.json()
    assert body["new_conversation"] is True and "sender_id" not in body
    assert body["error"].startswith("This conversation has become very long")
    assert rasa.messages == ["one", "two", "three"]
    assert rasa.senders[2] != rasa.senders[0]


# A message sent again with its id (the visitor moved to another page before the answer came)


MESSAGE_ID = "0f8c6a4e-5b2d-4c7e-9a1f-3d2b1c0e9f8a"


async def test_a_message_sent_again_with_its_id_gets_the_same_answer_and_reaches_rasa_once(client, rasa):
    first = await client.post("/api/chat", json={"message": "hello", "message_id": MESSAGE_ID})
    again = await client.post("/api/chat", json={"message": "hello", "message_id": MESSAGE_ID})

    assert first.status == again.status == 200
    assert await first.json() == await again.json()  # the same conversation, too
    assert len(rasa.received) == 1
    other = await client.post("/api/chat", json={"message": "hello", "message_id": MESSAGE_ID.replace("0f", "1e")})
    assert (await other.json())["sender_id"] != (await first.json())["sender_id"]
    assert len(rasa.received) == 2


async def test_a_message_sent_again_while_its_answer_is_on_the_way_waits_for_that_answer(client, rasa):
    rasa.hold = asyncio.Event()
    body = {"sender_id": signed(client, SENDER), "message": "hello", "message_id": MESSAGE_ID}
    first = asyncio.create_task(client.post("/api/chat", json=body))
    while not rasa.received:
        await asyncio.sleep(0.01)
    again = asyncio.create_task(client.post("/api/chat", json=body))
    await asyncio.sleep(0.2)
    assert not again.done()
    rasa.hold.set()

    answers = [await (await task).json() for task in (first, again)]
    assert answers[0] == answers[1] and answers[0]["messages"][0]["text"] == "rasa heard: hello"
    assert len(rasa.received) == 1


async def test_a_message_whose_first_try_failed_is_tried_again(client, rasa):
    body = {"sender_id": signed(client, SENDER), "message": "hello", "message_id": MESSAGE_ID}
    rasa.status = 500
    assert (await client.post("/api/chat", json=body)).status == 503
    rasa.status = 200
    response = await client.post("/api/chat", json=body)
    assert response.status == 200
    assert (await response.json())["messages"][0]["text"] == "rasa heard: hello"


@pytest.mark.parametrize("message_id", ["short", "x" * 65, "has spaces in it here", 12345678901234567, ["a"]])
async def test_a_message_id_that_is_not_one_gets_400(client, rasa, message_id):
    response = await client.post("/api/chat", json={"message": "hello", "message_id": message_id})
    assert response.status == 400
    assert "message_id" in (await response.json())["error"]
    assert rasa.received == []
