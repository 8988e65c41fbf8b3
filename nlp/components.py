"""Rasa NLU components that overrule the classifier where a rule must win.

`QuestionFocus` comes first in config.yml: the classifiers of a long, rambling message see its
question (`nlp/focus.py`); the components below read the whole message as typed, and `SafetyNet`,
last, gives the message its whole text back.

Placed after the classifiers in config.yml, in this order, each replacing the intent when it
finds something (the classifier's ranking is kept below it):
- `TwoRequestsCheck`: "faq+inquire_cost" only where the words ask for it, a question followed
  by a plain booking request read as both, and a message the classifier could not place that asks
  for costs, openings or booking in plain words read as that request;
- `NonsenseDetector`: code, keyboard mashes, words nobody uses -> `out_of_scope`;
- `LanguageDetector`: a message clearly not in English -> `non_english`, with a `language`
  entity (ISO 639-1, "es") for the reply;
- `SafetyNet`: crisis phrases -> `self_harm` and emergencies happening now -> `emergency`, with
  a `crisis_about` entity ("self" or "someone_else"); an `emergency` the classifier guessed for a
  past or negated event ("I fell last year but I'm fine") gives way to its next intent.
Every overruling is shown in the parse's `intent_ranking` and logged at DEBUG, never the text.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlp import safety
from nlp.focus import question_part
from nlp.language import LanguageIdentifier
from nlp.nonsense import is_nonsense, vocabulary_of
from nlp.two_requests import asks_for_advice, asks_something, booking_part, requested_kinds, rescued_request

log = logging.getLogger(__name__)

SAFETY_INTENTS = ("self_harm", "emergency")
# Intents the classifier gives some requests in their own words ("Dear ..., I am writing to request an
# appointment" as inform; "can I get in this week? my back is killing me" as medical_advice): when the
# message asks for something and its words name an inquiry, the inquiry is what it asks for.
READ_AGAIN_WHEN_ASKING = frozenset({"inform", "out_of_scope", "medical_advice"})
# Where QuestionFocus keeps a long message's whole text while the classifiers read its question.
TEXT_AS_TYPED = "text_as_typed"
VOCABULARY_FILE = "vocabulary.json"


def _overrule(message: Message, intent: str, by: str) -> None:
    previous = message.get(INTENT) or {}
    if previous.get("name") == intent and previous.get("confidence") == 1.0:
        return
    log.debug("%s sets the intent %s (the classifier said %s)", by, intent, previous.get("name"))
    ranking = [r for r in (message.get(INTENT_RANKING_KEY) or []) if r.get("name") != intent]
    message.set(INTENT, {"name": intent, "confidence": 1.0}, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [{"name": intent, "confidence": 1.0}] + ranking, add_to_output=True)


def _add_entity(message: Message, entity: str, value: str, by: str) -> None:
    text = _typed(message)
    entities = [e for e in (message.get(ENTITIES) or []) if e.get("entity") != entity]
    entities.append({"entity": entity, "value": value, "start": 0, "end": len(text), "confidence_entity": 1.0,
                     "extractor": by})
    message.set(ENTITIES, entities, add_to_output=True)


def _intent_name(message: Message) -> Optional[str]:
    return (message.get(INTENT) or {}).get("name")


def _typed(message: Message) -> str:
    """The message as the visitor typed it, whole."""
    return message.get(TEXT_AS_TYPED) or message.get(TEXT) or ""


def _focus(message: Message) -> None:
    text = message.get(TEXT)
    if text and (question := question_part(text)) != text:
        message.set(TEXT_AS_TYPED, text)
        message.set(TEXT, question)


class _Rules(GraphComponent):
    """A component with nothing to train: built from no configuration, leaves training data alone."""

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "_Rules":
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class QuestionFocus(_Rules):
    """Before everything else: the classifiers of a long message read only its question."""

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            _focus(message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for message in training_data.training_examples:
            _focus(message)
        return training_data


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class TwoRequestsCheck(_Rules):
    """Keeps two-request labels to messages whose words make both requests; reads plain requests the classifier missed."""

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent, text = _intent_name(message) or "", _typed(message)
            if intent.startswith("faq+"):
                request = intent.split("+", 1)[1]
                if request not in requested_kinds(text):
                    _overrule(message, "faq", "TwoRequestsCheck")
            elif intent == "faq" and booking_part(text):
                _overrule(message, "faq+request_appointment", "TwoRequestsCheck")
            elif intent == "nlu_fallback" and (request := rescued_request(text)):
                _overrule(message, request, "TwoRequestsCheck")
            elif (intent in READ_AGAIN_WHEN_ASKING and asks_something(text) and not asks_for_advice(text)
                  and (request := rescued_request(text))):
                _overrule(message, request, "TwoRequestsCheck")
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class NonsenseDetector(GraphComponent):
    """Sets `out_of_scope` for gibberish and code; learns which words the training data uses."""

    def __init__(self, model_storage: ModelStorage, resource: Resource, vocabulary: set[str]) -> None:
        self._model_storage = model_storage
        self._resource = resource
        self._vocabulary = vocabulary

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "NonsenseDetector":
        return cls(model_storage, resource, set())

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "NonsenseDetector":
        with model_storage.read_from(resource) as directory:
            vocabulary = set(json.loads((directory / VOCABULARY_FILE).read_text(encoding="utf-8")))
        return cls(model_storage, resource, vocabulary)

    def train(self, training_data: TrainingData) -> Resource:
        # Out-of-scope examples are what nonsense looks like, so their words do not count as known.
        texts = [m.get(TEXT) for m in training_data.intent_examples if m.get(INTENT) != "out_of_scope" and m.get(TEXT)]
        self._vocabulary = vocabulary_of(texts)
        with self._model_storage.write_to(self._resource) as directory:
            (directory / VOCABULARY_FILE).write_text(json.dumps(sorted(self._vocabulary)), encoding="utf-8")
        return self._resource

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if _intent_name(message) in SAFETY_INTENTS or not _typed(message):
                continue
            if is_nonsense(_typed(message), self._vocabulary):
                _overrule(message, "out_of_scope", "NonsenseDetector")
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class LanguageDetector(_Rules):
    """Sets `non_english` and a `language` entity for a message clearly not in English."""

    def __init__(self) -> None:
        self._identifier = LanguageIdentifier()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if not _typed(message):
                continue
            code = self._identifier.detect(_typed(message))
            if code is None:
                continue
            _add_entity(message, "language", code, "LanguageDetector")
            if _intent_name(message) not in SAFETY_INTENTS:
                _overrule(message, "non_english", "LanguageDetector")
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class SafetyNet(_Rules):
    """Crisis and emergency phrases anywhere in the message win over everything the classifiers said.

    Last in the pipeline, it also gives a long message its whole text back for the parse's output.
    """

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = _typed(message)
            if message.get(TEXT_AS_TYPED):
                message.set(TEXT, text)
            if not text:
                continue
            crisis = safety.find_crisis(text)
            emergency = None if crisis is not None else safety.find_emergency(text)
            if emergency is not None:
                # An accident named in words ("took too much by accident", "bent the wrong way")
                # is an emergency even where the classifier heard a crisis.
                _overrule(message, "emergency", "SafetyNet")
            elif _intent_name(message) in SAFETY_INTENTS and crisis is None and safety.is_refusal(text):
                # "I don't want to give my number" is a refusal, whatever the classifier heard in it.
                self._step_down(message)
            elif crisis is not None or _intent_name(message) == "self_harm":
                if crisis is not None:
                    _overrule(message, "self_harm", "SafetyNet")
                about_someone_else = crisis.about_someone_else if crisis else safety.speaks_of_someone_else(text)
                _add_entity(message, "crisis_about", "someone_else" if about_someone_else else "self", "SafetyNet")
            elif _intent_name(message) == "emergency" and safety.is_past_or_negated(text):
                self._step_down(message)
        return messages

    @staticmethod
    def _step_down(message: Message) -> None:
        ranking = [r for r in (message.get(INTENT_RANKING_KEY) or []) if r.get("name") not in SAFETY_INTENTS]
        if ranking:
            log.debug("SafetyNet: a past, denied or declined matter is no emergency or crisis")
            message.set(INTENT, {"name": ranking[0]["name"], "confidence": ranking[0]["confidence"]}, add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
