"""The whole assistant as `make run` starts it: `python -m bot run`, talked to over HTTP like the widget.

One inquiry goes from the chat to a lead row in the database and an email at a real SMTP server;
staff work a chat-captured lead in a real browser from sign-in to deletion; then Ctrl-C stops Rasa,
the action server and the web app.
"""

from __future__ import annotations

import csv
import io
import json
import re
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.conversation_log import rasa_events
from bot.db import make_engine, make_session_factory
from bot.leads.models import Lead
from bot.notify.models import OutboxMessage
from bot.schedule import offers
from bot.schedule.models import Booking, BookingStatus
from bot.settings import PROJECT_ROOT, Settings
from bot.stack import DEFAULT_MODEL
from bot.web.chat import ChatSigners
from tests.fixtures import free_port
from tests.web.chat_page import DESKTOP, bubbles, open_chat, send as send_in_browser
from tests.web.stand_ins import BROWSER_ARGS

pytestmark = pytest.mark.rasa


@dataclass
class Launched:
    process: subprocess.Popen
    url: str
    ports: list[int]
    settings: Settings
    output: list[str] = field(default_factory=list)

    @cached_property
    def engine(self) -> Engine:
        """The assistant's database, for checking what it stored."""
        return make_engine(self.settings)

    def session(self) -> Session:
        return make_session_factory(self.engine)()


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def launched(session_smtp_server):
    if not DEFAULT_MODEL.exists():
        pytest.fail(f"No trained model at {DEFAULT_MODEL}: `make test` trains it before running the tests")
    data_dir = Path(tempfile.mkdtemp(prefix="clinic-run-"))
    web_port, rasa_port, action_port = free_port(), free_port(), free_port()
    env = {
        "DATA_DIR": str(data_dir), "PORT": str(web_port), "RASA_URL": f"http://127.0.0.1:{rasa_port}",
        "ACTION_SERVER_PORT": str(action_port), "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(session_smtp_server.port),
        "MAIL_FROM": "assistant@clinic.test", "MAIL_TO": "frontdesk@clinic.test", "PUBLIC_URL": "http://clinic.test",
        "OUTBOX_POLL_SECONDS": "1",
        # Every test's visitors come from this one address, faster than any one person types.
        "CHAT_RATE_PER_CLIENT": "1000/minute",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"], cwd=PROJECT_ROOT, env={**os.environ, **env},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
    )
    running = Launched(process, f"http://127.0.0.1:{web_port}", [web_port, rasa_port, action_port], Settings.from_env(env))
    ready = threading.Event()

    def read_output() -> None:
        for line in process.stdout:
            running.output.append(line.rstrip("\n"))
            if "The assistant is ready" in line:
                ready.set()

    threading.Thread(target=read_output, daemon=True).start()
    deadline = time.monotonic() + 300
    while not ready.is_set() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.5)
    if not ready.is_set():
        process.kill()
        pytest.fail("`python -m bot run` did not become ready:\n" + "\n".join(running.output[-40:]))
    yield running
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
    running.engine.dispose()


def signed(launched: Launched, sender: str) -> str:
    """`sender` as the web app would have issued it (its key is in the assistant's DATA_DIR)."""
    return ChatSigners.for_settings(launched.settings).conversations.sign(sender).decode()


def chat(launched: Launched, sender: str, message: str) -> list[dict]:
    request = urllib.request.Request(
        f"{launched.url}/api/chat", data=json.dumps({"sender_id": signed(launched, sender), "message": message}).encode(),
        headers={"Content-Type": "application/json"}, method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())["messages"]


def texts(messages: list[dict]) -> str:
    return "\n".join(m["text"] for m in messages)


def talk(launched: Launched, sender: str, turns: list[tuple[str, str]]) -> list[str]:
    """Each message sent in turn; each reply must hold the expected words. The replies."""
    replies = []
    for message, expected in turns:
        reply = texts(chat(launched, sender, message))
        assert expected in reply, f"after {message!r} the assistant said:\n{reply}"
        replies.append(reply)
    return replies


def leads_of(launched: Launched, sender: str) -> list[Lead]:
    with launched.session() as session:
        return list(session.scalars(select(Lead).where(Lead.conversation_id == sender)))


def conversation_log(launched: Launched, sender: str) -> str:
    with launched.engine.connect() as connection:
        return "\n".join(connection.scalars(select(rasa_events.c.data).where(rasa_events.c.sender_id == sender)))


def test_stop_in_the_middle_saves_nothing_and_keeps_no_details(launched):
    sender = uuid.uuid4().hex
    talk(launched, sender, [
        ("how much does a visit cost", "What name should our staff use"),
        ("Maria Lopez", "phone number or email"),
        ("804-555-0134", "What area would you like help with"),
        ("stop", "saved nothing"),
        ("what is a DEXA scan", "Dual Energy X-ray Absorptiometry"),
    ])
    assert leads_of(launched, sender) == []
    log = conversation_log(launched, sender)
    assert "Dual Energy X-ray Absorptiometry" in log
    assert not [detail for detail in ("Maria", "804-555-0134", "+18045550134") if detail in log]


def test_without_consent_nothing_is_saved(launched):
    sender = uuid.uuid4().hex
    talk(launched, sender, [
        ("do you have any openings this week", "What name should our staff use"),
        ("Sam Jones", "phone number or email"),
        ("sam.jones@example.com", "What area would you like help with"),
        ("my neck", "days and times"),
        ("any weekday afternoon", "May our clinic staff contact you"),
        ("no", "nothing was saved"),
    ])
    assert leads_of(launched, sender) == []
    assert "sam.jones" not in conversation_log(launched, sender)


def test_a_question_is_answered_then_the_inquiry_resumes(launched):
    sender = uuid.uuid4().hex
    talk(launched, sender, [
        ("can I book an appointment", "What name should our staff use"),
        ("Ann Smith", "phone number or email"),
        ("what is a dexa scan", "What's the best phone number or email"),
        ("ann@example.com", "What area would you like help with"),
    ])
    replies = talk(launched, sender, [("what is a dexa scan", "Dual Energy X-ray Absorptiometry")])
    assert "What area would you like help with" in replies[0]
    assert "Call 911" not in replies[0]


def test_an_emergency_during_the_inquiry_gets_911_alone_and_the_inquiry_waits(launched):
    sender = uuid.uuid4().hex
    replies = talk(launched, sender, [
        ("can I book an appointment", "What name should our staff use"),
        ("Ann Smith", "phone number or email"),
        ("I fell and can't get up", "Call 911 now"),
        # "ok, I called them" must not become a detail of the inquiry, nor "ok" send it.
        ("ann@example.com", "I can take your details"),
    ])
    assert "phone number or email" not in replies[2]
    assert leads_of(launched, sender) == []


def test_a_correction_at_the_read_back_changes_what_is_saved(launched):
    sender = uuid.uuid4().hex
    replies = talk(launched, sender, [
        ("I want to book an appointment", "What name should our staff use"),
        ("Maria Lopez", "phone number or email"),
        ("804-555-0134", "What area would you like help with"),
        ("Hip", "days and times"),
        ("tuesday mornings", "May our clinic staff contact you"),
        ("yes", "Here's what I'll send"),
        ("actually my number is 804-555-0188", "Here's what I'll send"),
        ("yes", "Thank you, Maria!"),
    ])
    assert "(804) 555-0188" in replies[6] and "0134" not in replies[6]
    [lead] = leads_of(launched, sender)
    assert (lead.name, lead.phone, lead.area_of_concern) == ("Maria Lopez", "+18045550188", "Hip")


def test_the_start_prints_progress_the_address_and_a_one_time_admin_password(launched):
    output = "\n".join(launched.output)
    assert "==> Preparing the database" in output
    assert "==> Starting the action server and Rasa" in output
    assert f"The assistant is ready: {launched.settings.public_url}/" in output
    password = re.search(r"one-time password (\S+)", output)
    assert password and output.count(password.group(1)) == 1


def test_the_page_and_a_question_answered_from_the_article(launched):
    with urllib.request.urlopen(f"{launched.url}/", timeout=10) as response:
        page = response.read().decode()
    assert "What Are The Best Exercises For Osteoporosis?" in page
    answer = texts(chat(launched, uuid.uuid4().hex, "what is a DEXA scan"))
    assert "Dual Energy X-ray Absorptiometry" in answer


def test_an_appointment_inquiry_becomes_a_lead_and_staff_get_an_email(launched, session_smtp_server):
    sender = uuid.uuid4().hex
    replies = talk(launched, sender, [
        ("I'd like to book an appointment for my knee", "What name should our staff use"),
        ("Maria Lopez", "phone number or email"),
        ("804 555", "area code"),
        ("it's 804-555-0134", "days and times"),
        ("weekday mornings", "May our clinic staff contact you"),
        ("yes", "Here's what I'll send"),
        ("yes", "Thank you, Maria!"),
    ])
    assert "Phone: (804) 555-0134" in replies[5] and "Area of concern: Knee" in replies[5]

    [lead] = leads_of(launched, sender)
    assert (lead.kind.value, lead.name, lead.phone, lead.area_of_concern, lead.preferred_times) == (
        "appointment", "Maria Lopez", "+18045550134", "Knee", "weekday mornings")
    lead_id = lead.id

    deadline = time.monotonic() + 30
    subject = f"#{lead_id}"
    while time.monotonic() < deadline:
        mails = [m for m in session_smtp_server.messages if subject in str(m["Subject"])]
        if mails:
            break
        time.sleep(0.5)
    assert mails, "no email reached the SMTP server"
    body = mails[0].get_body(preferencelist=("plain",)).get_content()
    assert f"http://clinic.test/staff/leads/{lead_id}" in body
    for private in ["Maria", "Lopez", "555", "Knee", "weekday"]:
        assert private not in body and private not in str(mails[0]["Subject"])
    with launched.session() as session:
        outbox = session.scalars(select(OutboxMessage).where(OutboxMessage.lead_id == lead_id)).one()
        assert outbox.sent_at is not None


@pytest.mark.browser
def test_staff_work_a_chat_captured_lead_from_sign_in_to_deletion(launched):
    from playwright.sync_api import sync_playwright

    from tests.web.stand_ins import BROWSER_ARGS

    sender = uuid.uuid4().hex
    for message in ["can you recommend a good recipe for lasagna", "do you have any openings next week", "Ann Smith",
                    "ann.smith@example.com", "hip", "friday afternoons", "yes", "yes"]:
        chat(launched, sender, message)
    password = re.search(r"one-time password (\S+)", "\n".join(launched.output)).group(1)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{launched.url}/staff")
        page.get_by_label("Email address").fill("admin")
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        # The one-time password must be replaced first.
        page.get_by_label("Current password").fill(password)
        page.get_by_label("New password", exact=True).fill("front desk keeps this safe 2026")
        page.get_by_label("New password again").fill("front desk keeps this safe 2026")
        page.get_by_role("button", name="Change password").click()
        page.goto(f"{launched.url}/staff/unanswered")
        assert "can you recommend a good recipe for lasagna" in page.locator("main").inner_text().lower()

        page.goto(f"{launched.url}/staff/leads")
        page.get_by_label("Search").fill("ann.smith@example.com")
        page.get_by_role("button", name="Filter").click()
        page.get_by_role("link", name="Ann Smith").click()
        transcript = page.locator("ol.transcript").inner_text()
        assert "do you have any openings next week" in transcript
        assert "I can show you our open times" in transcript
        assert "ann.smith@example.com" in page.content()

        page.get_by_label("Move to").select_option("contacted")
        page.get_by_label("Note (optional)").fill("Emailed her two Friday slots")
        page.get_by_role("button", name="Update status").click()
        assert page.locator(".page-head .status").inner_text() == "Contacted"
        page.get_by_label("New note").fill("She took Friday at 2pm")
        page.get_by_role("button", name="Add note").click()
        assert "She took Friday at 2pm" in page.locator("ol.notes").inner_text()

        page.get_by_role("link", name="← All leads").click()
        page.get_by_label("Search").fill("ann.smith@example.com")
        page.get_by_role("button", name="Filter").click()
        with page.expect_download() as download_info:
            page.get_by_role("button", name="Export CSV").click()
        exported = list(csv.DictReader(io.StringIO(Path(download_info.value.path()).read_text(encoding="utf-8-sig"))))
        assert [(row["Name"], row["Email"], row["Status"]) for row in exported] == [
            ("Ann Smith", "ann.smith@example.com", "Contacted")]

        page.get_by_role("link", name="Ann Smith").click()
        lead_id = int(page.url.rsplit("/", 1)[1])
        page.get_by_role("link", name="Delete this lead…").click()
        page.get_by_role("button", name=f"Delete lead #{lead_id} permanently").click()
        page.wait_for_url(f"{launched.url}/staff/leads")
        assert f"Lead #{lead_id} was deleted" in page.locator(".flash").inner_text()
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(f"{launched.url}/staff/login")
        browser.close()
    assert leads_of(launched, sender) == []
    assert conversation_log(launched, sender) == ""


def child_pid(launched: Launched, *words: str) -> int | None:
    """The launcher's child process whose command line holds `words`, if one runs."""
    for task in Path(f"/proc/{launched.process.pid}/task").iterdir():
        for pid in (task / "children").read_text().split():
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
            if all(word in argv for word in words):
                return int(pid)
    return None


def send(launched: Launched, sender: str, message: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{launched.url}/api/chat", data=json.dumps({"sender_id": signed(launched, sender), "message": message}).encode(),
        headers={"Content-Type": "application/json"}, method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def a_visitor_in_the_browser_is_told_to_call(launched: Launched) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport=DESKTOP)
            page.goto(launched.url)
            open_chat(page)
            send_in_browser(page, "what is a dexa scan")
            answer = bubbles(page, "bot").last
            expect(answer).to_have_text(
                "Sorry, the assistant is unavailable for a moment. Please send your message again shortly, "
                "or call us at (804) 493-3256.", timeout=30_000)
            expect(answer.get_by_role("link", name="(804) 493-3256")).to_have_attribute("href", "tel:+18044933256")
            expect(page.get_by_label("Your message")).to_have_value("what is a dexa scan")
        finally:
            browser.close()


def kill_and_wait_for_the_restart(launched: Launched, words: tuple[str, ...], port: int, sender: str, message: str,
                                  while_down=lambda launched: None):
    """Kill a child mid-conversation: the visitor is told to call, the pages stay up, the child comes back."""
    pid = child_pid(launched, *words)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while _port_open(port) and time.monotonic() < deadline:
        time.sleep(0.1)
    status, body = send(launched, sender, message)
    assert status == 503 and "call us at (804) 493-3256" in body["error"]
    while_down(launched)
    for page in ("/", "/staff/login", "/healthz"):
        with urllib.request.urlopen(f"{launched.url}{page}", timeout=10) as response:
            assert response.status == 200
    deadline = time.monotonic() + 240
    while child_pid(launched, *words) in (None, pid) or not _port_open(port):
        assert time.monotonic() < deadline, f"{words} was not restarted"
        assert launched.process.poll() is None, "the launcher exited"
        time.sleep(0.5)


def staff_are_notified_once(smtp_server, lead: Lead) -> None:
    subject = f"New appointment inquiry #{lead.id}"
    deadline = time.monotonic() + 30
    while subject not in [str(m["Subject"]) for m in smtp_server.messages]:
        assert time.monotonic() < deadline, "no email reached the SMTP server"
        time.sleep(0.5)
    time.sleep(2)  # the outbox polls every second: a second notice would have come by now
    subjects = [str(m["Subject"]) for m in smtp_server.messages]
    assert subjects.count(subject) == 1, subjects


def test_a_killed_action_server_and_rasa_are_restarted_and_the_inquiry_goes_on(launched, session_smtp_server):
    rasa_port, action_port = launched.ports[1], launched.ports[2]
    sender = uuid.uuid4().hex
    talk(launched, sender, [
        ("I want to book an appointment", "What name should our staff use"),
        ("Maria Lopez", "phone number or email"),
    ])
    kill_and_wait_for_the_restart(launched, ("bot", "actions"), action_port, sender, "804-555-0134")
    # Rasa recorded the turn the action server missed; sent again, it is answered where it was.
    deadline = time.monotonic() + 30
    while (status_and_body := send(launched, sender, "804-555-0134"))[0] != 200:
        assert time.monotonic() < deadline, status_and_body
        time.sleep(1)
    assert "What area would you like help with" in texts(status_and_body[1]["messages"])

    kill_and_wait_for_the_restart(launched, ("run", "--model"), rasa_port, sender, "Hip",
                                  while_down=a_visitor_in_the_browser_is_told_to_call)
    deadline = time.monotonic() + 60
    while (status_and_body := send(launched, sender, "Hip"))[0] != 200:
        assert time.monotonic() < deadline, status_and_body
        time.sleep(1)
    assert "days and times" in texts(status_and_body[1]["messages"])
    talk(launched, sender, [
        ("tuesday mornings", "May our clinic staff contact you"),
        ("yes", "Here's what I'll send"),
        ("yes", "Thank you, Maria!"),
    ])

    [lead] = leads_of(launched, sender)
    assert (lead.name, lead.phone, lead.area_of_concern) == ("Maria Lopez", "+18045550134", "Hip")
    staff_are_notified_once(session_smtp_server, lead)
    output = "\n".join(launched.output)
    assert re.search(r"WARNING bot\.stack: Action server stopped unexpectedly \(exit code -9\); restarting", output)
    assert re.search(r"WARNING bot\.stack: Rasa stopped unexpectedly \(exit code -9\); restarting", output)


def test_an_inquiry_sent_while_the_action_server_is_down_is_stored_once_when_sent_again(
        launched, session_smtp_server):
    sender = uuid.uuid4().hex
    talk(launched, sender, [
        ("I want to book an appointment", "What name should our staff use"),
        ("Dana Brown", "phone number or email"),
        ("dana@example.com", "What area would you like help with"),
        ("Knee", "days and times"),
        ("weekday afternoons", "May our clinic staff contact you"),
        ("yes", "Here's what I'll send"),
    ])
    # Rasa is up and takes the "yes", but the form cannot check it: the form stays where it was.
    kill_and_wait_for_the_restart(launched, ("bot", "actions"), launched.ports[2], sender, "yes")
    assert leads_of(launched, sender) == []
    deadline = time.monotonic() + 30
    while (status_and_body := send(launched, sender, "yes"))[0] != 200:
        assert time.monotonic() < deadline, status_and_body
        time.sleep(1)
    assert "Thank you, Dana!" in texts(status_and_body[1]["messages"])

    [lead] = leads_of(launched, sender)
    assert (lead.name, lead.email, lead.area_of_concern) == ("Dana Brown", "dana@example.com", "Knee")
    staff_are_notified_once(session_smtp_server, lead)


def _raw_response(launched: Launched, request: bytes) -> tuple[str, dict[str, str]]:
    """The status line and headers of what the web app answers to `request` sent as is."""
    with socket.create_connection(("127.0.0.1", launched.ports[0]), timeout=10) as sock:
        sock.sendall(request)
        received = b""
        while b"\r\n\r\n" not in received and (chunk := sock.recv(65536)):
            received += chunk
    head = received.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    return head[0], {name.lower(): value.strip() for name, value in (line.split(":", 1) for line in head[1:])}


@pytest.mark.parametrize("request_bytes", [
    b"GET /?q=" + b"a" * 10_000 + b" HTTP/1.1\r\nHost: clinic.test\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: clinic.test\r\nX-Long: " + b"b" * 10_000 + b"\r\n\r\n",
    b"GET /staff/leads HTTP/1.1\r\nHost: clinic.test\r\nContent-Length: nine\r\n\r\n",
    b"NOT HTTP AT ALL\r\n\r\n",
], ids=["request line over 8 KB", "header over 8 KB", "bad Content-Length", "not HTTP"])
def test_requests_refused_before_routing_name_no_versions(launched, request_bytes):
    status, headers = _raw_response(launched, request_bytes)
    assert re.match(r"HTTP/1\.[01] 400 ", status), status
    assert headers["server"] == "clinic-assistant"
    assert "aiohttp" not in str(headers).lower() and "python" not in str(headers).lower()
    time.sleep(0.2)
    # One line each, at INFO: broken HTTP is no error of ours, and what was sent stays out of the log.
    assert not [line for line in launched.output if "Traceback" in line or "ERROR aiohttp" in line]
    assert "Refused a request that is not well-formed HTTP" in "\n".join(launched.output)


def test_the_database_keys_and_logs_are_for_the_assistants_account_only(launched):
    files = [path for path in launched.settings.data_dir.rglob("*") if path.is_file()]
    assert launched.settings.sqlite_path in files and len(files) > 3
    shared = {str(path): oct(path.stat().st_mode & 0o777) for path in files if path.stat().st_mode & 0o077}
    assert shared == {}


def press(launched: Launched, sender: str, button: dict) -> list[dict]:
    """The visitor taps a button: its signed payload goes back as the widget sends it."""
    request = urllib.request.Request(
        f"{launched.url}/api/chat", data=json.dumps({"sender_id": signed(launched, sender), "payload": button["payload"]}).encode(),
        headers={"Content-Type": "application/json"}, method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())["messages"]


def offered_buttons(messages: list[dict]) -> list[dict]:
    return [button for message in messages for button in message.get("buttons") or [] if button["title"] != "Other times"]


def reach_the_times_question(launched: Launched, sender: str, name: str, email: str) -> list[dict]:
    talk(launched, sender, [
        ("do you have any openings this week?", "What name should our staff use"),
        (name, "phone number or email"),
        (email, "What area"),
    ])
    messages = chat(launched, sender, "my hip")
    assert "Which suits you?" in texts(messages), texts(messages)
    return offered_buttons(messages)


@pytest.mark.browser
def test_a_visitor_picks_an_open_time_staff_confirm_it_and_the_visitor_gets_the_invitation(launched, session_smtp_server):
    first_visitor, second_visitor = uuid.uuid4().hex, uuid.uuid4().hex
    buttons = reach_the_times_question(launched, first_visitor, "Ruth Baker", "ruth.baker@example.com")
    assert 2 <= len(buttons) <= 6
    picked = buttons[0]
    reply = texts(press(launched, first_visitor, picked))
    assert "May our clinic staff contact you" in reply
    readback = talk(launched, first_visitor, [("yes", f"Requested time: {picked['title']}")])[0]
    assert "held for you" in readback
    talk(launched, first_visitor, [("yes", "Thank you, Ruth!")])

    [lead] = leads_of(launched, first_visitor)
    assert lead.preferred_times == picked["title"]
    with launched.session() as session:
        booking = session.scalars(select(Booking).where(Booking.lead_id == lead.id)).one()
        assert booking.status == BookingStatus.requested
        assert offers.label(booking.starts, ZoneInfo(launched.settings.clinic_timezone)) == picked["title"]

    others = reach_the_times_question(launched, second_visitor, "Sam Ortiz", "sam.ortiz@example.com")
    assert picked["title"] not in [button["title"] for button in others]
    chat(launched, second_visitor, "stop")

    feed_url = staff_confirm_in_the_browser(launched, lead.id, picked["title"])
    invitation = visitor_email_with_invitation(session_smtp_server, "ruth.baker@example.com")
    [visit] = icalendar.Calendar.from_ical(invitation).walk("VEVENT")
    assert visit.decoded("DTSTART") == booking.starts
    # PUBLIC_URL is clinic.test here: the feed is fetched from the web app itself.
    with urllib.request.urlopen(launched.url + urllib.parse.urlsplit(feed_url).path, timeout=30) as response:
        feed = icalendar.Calendar.from_ical(response.read())
    assert [(event.decoded("DTSTART"), str(event["SUMMARY"])) for event in feed.walk("VEVENT")] == [
        (booking.starts, "Visit: Ruth B.")]


def staff_confirm_in_the_browser(launched: Launched, lead_id: int, title: str) -> str:
    """Staff sign in, find the visit on the week, confirm it on the lead's page; the staff calendar's address."""
    from tests.web.stand_ins import BROWSER_ARGS

    login, password = "scheduler@example.com", "front desk confirms visits 2026"
    subprocess.run([sys.executable, "-m", "bot", "staff", "add", login, "--password-stdin"], input=password + "\n",
                   cwd=PROJECT_ROOT, env={**os.environ, "DATA_DIR": str(launched.settings.data_dir)}, check=True,
                   capture_output=True, text=True, timeout=60)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{launched.url}/staff")
        page.get_by_label("Email address").fill(login)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"{launched.url}/staff/schedule?week={booking_week(launched, lead_id)}")
        page.get_by_role("link", name=re.compile("Ruth B")).first.click()
        expect(page.locator("#visit")).to_contain_text(title.split(", ")[1])
        page.locator("#visit").get_by_role("button", name="Confirm").click()
        expect(page.locator("#visit")).to_contain_text("Confirmed")
        page.goto(f"{launched.url}/staff/schedule/settings")
        feed_url = page.locator("#visits-feed-url").input_value()
        browser.close()
    return feed_url


def booking_week(launched: Launched, lead_id: int) -> str:
    with launched.session() as session:
        starts = session.scalars(select(Booking.starts).where(Booking.lead_id == lead_id)).one()
    return starts.astimezone(ZoneInfo(launched.settings.clinic_timezone)).date().isoformat()


def visitor_email_with_invitation(smtp_server, address: str) -> bytes:
    """The .ics attached to the confirmation that reached `address` at the local SMTP server."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        mails = [m for m in smtp_server.messages if address in str(m["To"])]
        if mails:
            break
        time.sleep(0.5)
    assert mails, f"no confirmation reached {address}"
    body = mails[0].get_body(preferencelist=("plain",)).get_content()
    assert "hip" not in body.lower() and "Your visit" in str(mails[0]["Subject"])
    [attachment] = [part for part in mails[0].iter_attachments() if part.get_content_type() == "text/calendar"]
    return attachment.get_payload(decode=True)


def test_ctrl_c_stops_rasa_the_action_server_and_the_web_app(launched):
    assert all(_port_open(port) for port in launched.ports)
    launched.process.send_signal(signal.SIGINT)
    assert launched.process.wait(timeout=90) == 0
    assert not any(_port_open(port) for port in launched.ports)
    assert "==> Stopping Rasa and the action server" in "\n".join(launched.output)

