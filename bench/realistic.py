"""Scoring a running Rasa server on the visitor messages and conversations nobody on the team wrote.

`tests/nlu/realistic/messages.yml` (single messages, each with the intent it should parse to and
a category) and `tests/nlu/realistic/conversations.yml` (short conversations, each turn with what
the visitor should get) were written by someone who never saw `data/`; they are never used for
training. `score_messages` sends each message to `/model/parse`; `play_conversations` plays each
conversation through the REST channel and reads what happened from the conversation's tracker
(actions run, slots set, the form's question). Both return figures by category, and the misses.

Used by `tests/nlu/test_realistic.py` (which holds the bars) and by `make bench` (which reports
ours and stock side by side).
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

from bot.areas import find_area
from bot.inquiry import REASONS, reason_for
from bot.settings import PROJECT_ROOT

REALISTIC_DIR = PROJECT_ROOT / "tests" / "nlu" / "realistic"
MESSAGES = REALISTIC_DIR / "messages.yml"
CONVERSATIONS = REALISTIC_DIR / "conversations.yml"
CLINIC_PHONE = "(804) 493-3256"
# The conversations' short names for the form's questions.
ASKED_SLOTS = {"name": "lead_name", "contact": "contact", "area": "area_of_concern", "times": "preferred_times",
               "insurance": "insurance", "consent": "consent", "confirm": "details_confirmed"}
# Intents the contract's readers take as the label's own: a call-back request is a request for a person.
SAME_PURPOSE = {"human_handoff": {"request_callback"}}
NOT_UNDERSTOOD = {"utter_out_of_scope", "utter_ask_rephrase", "utter_default", "action_default_fallback"}


def _with_token(url: str, token: str | None) -> str:
    """Rasa's HTTP API answers only with its token (`--auth-token`), given as `?token=`."""
    return f"{url}?{urllib.parse.urlencode({'token': token})}" if token else url


def _post(url: str, body: dict, timeout: float = 30) -> Any:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"null")


def _get(url: str, timeout: float = 30) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def load_messages(path: Path = MESSAGES) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["messages"]


def load_conversations(path: Path = CONVERSATIONS) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["conversations"]


@dataclass
class MessageScores:
    """Figures over the single messages; `misses` holds (category, text, expected, parsed)."""

    total: int = 0
    correct: int = 0
    by_category: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    crisis: list[int] = field(default_factory=lambda: [0, 0])
    emergency: list[int] = field(default_factory=lambda: [0, 0])
    # Messages that are no emergency, and how many of them got the 911 answer.
    false_emergency: list[int] = field(default_factory=lambda: [0, 0])
    misses: list[tuple[str, str, str, str]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @staticmethod
    def share(pair: list[int]) -> float:
        return pair[0] / pair[1] if pair[1] else 0.0

    def as_dict(self) -> dict:
        return {
            "messages": self.total, "intent_accuracy": round(self.accuracy, 4),
            "crisis_recall": round(self.share(self.crisis), 4), "crisis_messages": self.crisis[1],
            "emergency_recall": round(self.share(self.emergency), 4), "emergency_messages": self.emergency[1],
            "false_emergency_share": round(self.share(self.false_emergency), 4),
            "by_category": {c: {"correct": n, "total": t, "accuracy": round(n / t, 4)}
                            for c, (n, t) in sorted(self.by_category.items())},
        }


def parsed_label(parse: dict) -> str:
    """The parse as a label of the set: `faq/<key>` for an FAQ, else the intent's name."""
    intent = (parse.get("intent") or {}).get("name") or ""
    if intent == "faq":
        selected = ((parse.get("response_selector") or {}).get("faq") or {}).get("response") or {}
        return selected.get("intent_response_key") or "faq"
    return intent


def score_messages(rasa_url: str, messages: Iterable[dict] | None = None, token: str | None = None) -> MessageScores:
    """Parses each message (default: all of messages.yml) with the server at `rasa_url`."""
    scores = MessageScores()
    for message in messages if messages is not None else load_messages():
        expected = message["label"]
        got = parsed_label(_post(_with_token(f"{rasa_url}/model/parse", token), {"text": message["text"]}))
        # "faq+inquire_cost" for a cost question that also asks an FAQ still starts the inquiry.
        right = got == expected or expected in got.split("+") or got in SAME_PURPOSE.get(expected, ())
        scores.total += 1
        scores.correct += right
        category = scores.by_category[message["category"]]
        category[0] += right
        category[1] += 1
        if expected == "self_harm":
            scores.crisis[0] += got == "self_harm"
            scores.crisis[1] += 1
        elif expected == "emergency":
            scores.emergency[0] += got == "emergency"
            scores.emergency[1] += 1
        else:
            scores.false_emergency[0] += got == "emergency"
            scores.false_emergency[1] += 1
        if not right:
            scores.misses.append((message["category"], message["text"], expected, got))
    return scores


@dataclass
class Turn:
    """What one visitor message led to: the actions run, the bot's texts and the slots after it."""

    actions: list[str]
    texts: list[str]
    faq_keys: list[str]
    slots: dict[str, Any]
    active_loop: str | None


def _turn_from_tracker(tracker: dict, after_user_events: int) -> Turn:
    events = tracker["events"]
    user_seen = 0
    start = len(events)
    for index, event in enumerate(events):
        if event.get("event") == "user":
            user_seen += 1
            if user_seen == after_user_events:
                start = index + 1
                break
    actions, texts, keys = [], [], []
    for event in events[start:]:
        if event.get("event") == "action" and event.get("name") != "action_listen":
            actions.append(event["name"])
        elif event.get("event") == "bot":
            texts.append(event.get("text") or "")
            utter = (event.get("metadata") or {}).get("utter_action") or ""
            if utter.startswith("utter_faq/"):
                keys.append(utter.removeprefix("utter_"))
    loop = (tracker.get("active_loop") or {}).get("name")
    return Turn(actions=actions, texts=texts, faq_keys=keys, slots=tracker.get("slots") or {}, active_loop=loop)


def _same(expected: Any, got: Any) -> bool:
    if expected is None:
        return got is None
    return str(expected).strip().lower() == str(got or "").strip().lower()


def check(expectation: Any, turn: Turn) -> str | None:
    """None when the turn meets the expectation, else why not."""
    if isinstance(expectation, dict):
        (kind, value), = expectation.items()
    else:
        kind, value = expectation, None
    # Putting the inquiry aside shows the visitor nothing, so it does not count as going first.
    actions = [action for action in turn.actions if action != "action_deactivate_loop"]
    text = "\n".join(turn.texts)
    requested = turn.slots.get("requested_slot") if turn.active_loop else None
    if kind == "crisis":
        if not actions or actions[0] not in ("utter_self_harm", "utter_self_harm_follow_up"):
            return f"crisis help not first: {actions}"
        if turn.faq_keys or requested and actions[-1] == "inquiry_form":
            return f"crisis help with an FAQ or a form question beside it: {actions}"
        return None
    if kind == "emergency":
        return None if actions and actions[0] == "utter_emergency" else f"911 not first: {actions}"
    if kind == "no_emergency":
        return None if not {"utter_emergency", "utter_self_harm", "utter_self_harm_follow_up"} & set(actions) else (
            f"safety answer given: {actions}")
    if kind == "faq":
        return None if f"faq/{value}" in turn.faq_keys else f"no answer faq/{value}: {turn.faq_keys or actions}"
    if kind == "no_faq":
        return None if not turn.faq_keys else f"FAQ answered: {turn.faq_keys}"
    if kind == "inquiry":
        return None if turn.active_loop == "inquiry_form" and turn.slots.get("inquiry_kind") == value else (
            f"no {value} inquiry: loop {turn.active_loop}, kind {turn.slots.get('inquiry_kind')}, {actions}")
    if kind == "asks":
        wanted = ASKED_SLOTS[value]
        return None if requested == wanted and actions and actions[-1] in {"inquiry_form", "action_ask_details_confirmed"} | {
            f"utter_ask_{wanted}"} else f"asks {requested} (loop {turn.active_loop}), {actions}"
    if kind == "filled":
        for slot, wanted in value.items():
            got = turn.slots.get(slot)
            if slot == "contact" and _same(wanted, turn.slots.get("contact_email")):
                continue
            # An area described in a sentence is stored as the sentence; its area is what counts.
            if slot == "area_of_concern" and _same(find_area(str(wanted)) or wanted, find_area(str(got or "")) or got):
                continue
            if not _same(wanted, got):
                return f"{slot} is {got!r}, not {wanted!r}"
        return None
    if kind == "reason":
        return None if any(reason_for(slot, CLINIC_PHONE) in text for slot in REASONS) else "no reason given"
    if kind == "medical_advice":
        return None if "utter_medical_advice" in actions else f"no medical-advice answer: {actions}"
    if kind == "not_understood":
        return None if NOT_UNDERSTOOD & set(actions) else f"understood as {actions}"
    if kind in ("spanish", "english_only"):
        if "utter_non_english" not in actions or CLINIC_PHONE not in text:
            return f"no other-language reply: {actions}"
        spanish = _same(turn.slots.get("language"), "es")
        return None if spanish == (kind == "spanish") else f"reply for language {turn.slots.get('language')}"
    if kind == "says":
        return None if str(value).lower() in text.lower() else f"does not say {value!r}: {text[:200]!r}"
    if kind == "contact_info":
        return None if CLINIC_PHONE in text else "no phone number"
    if kind == "stopped":
        return None if "action_cancel_inquiry" in actions or "utter_inquiry_stopped" in actions else f"not stopped: {actions}"
    if kind == "lead_saved":
        return None if "action_submit_inquiry" in actions and "Your details are with our front desk" in text else (
            f"no lead: {actions}")
    return f"unknown expectation {kind}"


@dataclass
class ConversationScores:
    total: int = 0
    passed: int = 0
    by_category: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    failures: list[tuple[str, str, int, str, str, str]] = field(default_factory=list)

    @property
    def pass_rate(self) -> float:
        return self.passed / self.total if self.total else 0.0

    def as_dict(self) -> dict:
        return {"conversations": self.total, "passed": self.passed, "pass_rate": round(self.pass_rate, 4),
                "by_category": {c: {"passed": n, "total": t} for c, (n, t) in sorted(self.by_category.items())}}


def _kind(expectation: Any) -> str:
    return next(iter(expectation)) if isinstance(expectation, dict) else str(expectation)


def play_conversations(rasa_url: str, conversations: Iterable[dict] | None = None,
                       token: str | None = None) -> ConversationScores:
    """Plays each conversation as a new visitor; a conversation passes when every turn does.

    Every turn is played and checked, so `failures` holds each unmet expectation:
    (category, conversation, turn number, visitor's text, expectation kind, why).
    """
    scores = ConversationScores()
    for conversation in conversations if conversations is not None else load_conversations():
        sender = f"realistic-{uuid.uuid4().hex[:12]}"
        failed = False
        for number, turn in enumerate(conversation["turns"], start=1):
            _post(f"{rasa_url}/webhooks/rest/webhook", {"sender": sender, "message": turn["user"]})
            tracker = _get(_with_token(f"{rasa_url}/conversations/{sender}/tracker", token))
            played = _turn_from_tracker(tracker, number)
            for expectation in turn.get("expect") or []:
                why = check(expectation, played)
                if why:
                    failed = True
                    scores.failures.append((conversation["category"], conversation["name"], number, turn["user"],
                                            _kind(expectation), why))
        scores.total += 1
        category = scores.by_category[conversation["category"]]
        category[1] += 1
        if not failed:
            scores.passed += 1
            category[0] += 1
    return scores


def summary(messages: MessageScores, conversations: ConversationScores | None = None) -> str:
    lines = [f"intent accuracy {messages.accuracy:.1%} of {messages.total}; crisis recall "
             f"{messages.share(messages.crisis):.1%} of {messages.crisis[1]}; emergency recall "
             f"{messages.share(messages.emergency):.1%} of {messages.emergency[1]}; 911 for non-emergencies "
             f"{messages.share(messages.false_emergency):.1%}"]
    lines += [f"  {category}: {n}/{t}" for category, (n, t) in sorted(messages.by_category.items())]
    if conversations is not None:
        lines.append(f"conversations {conversations.passed}/{conversations.total}")
        lines += [f"  {c}: {n}/{t}" for c, (n, t) in sorted(conversations.by_category.items())]
    return "\n".join(lines)
