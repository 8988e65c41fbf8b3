"""A second question asked in the same message as the first gets its answer too."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.questions import second_question


class ActionAnswerSecondQuestion(Action):
    def name(self) -> str:
        return "action_answer_second_question"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        selected = (tracker.latest_message.get("response_selector") or {}).get("faq") or {}
        key = second_question(tracker.latest_message.get("text") or "", selected.get("ranking") or [])
        if key and f"utter_{key}" in (domain.get("responses") or {}):
            dispatcher.utter_message(response=f"utter_{key}")
        return []
