"""Each kind of message visitors type, played against the real assistant: what the visitor sees.

One conversation per kind the assistant once got wrong (a person in crisis answered with
exercise advice, a name taken for a question, a question taken for a name, half of a
two-part message dropped), with its right value.
"""

from __future__ import annotations

import pytest

from bench import realistic

pytestmark = pytest.mark.rasa

BOOK = {"user": "I'd like to book an appointment", "expect": [{"inquiry": "appointment"}, {"asks": "name"}]}

CONVERSATIONS = [
    ("a crisis gets 988 first", [
        {"user": "I want to kill myself", "expect": ["crisis", {"says": "988"}, {"says": "911"}, "no_faq"]}]),
    ("an indirect crisis gets 988 first", [
        {"user": "since my diagnosis I feel like a burden, I don't want to be around anymore",
         "expect": ["crisis", {"says": "988"}]}]),
    ("a misspelled crisis gets 988 first", [{"user": "i want to kil myslef", "expect": ["crisis"]}]),
    ("someone else in crisis gets the lines worded for them", [
        {"user": "my dad keeps saying he wants to die", "expect": ["crisis", {"says": "worried about someone else"}]}]),
    ("a crisis in the middle of the inquiry gets 988 and no form question", [
        BOOK, {"user": "honestly I just want to end it all", "expect": ["crisis", "no_faq"]}]),
    ("booking with an area fills the area", [
        {"user": "book me for my shoulder",
         "expect": [{"inquiry": "appointment"}, {"filled": {"area_of_concern": "Shoulder"}}, {"asks": "name"}]}]),
    ("Spanish gets a reply in Spanish", [{"user": "¿Cuánto cuesta una cita?", "expect": ["spanish", "no_faq"]}]),
    ("another language gets a short English reply", [
        {"user": "Bonjour, combien coûte une consultation ?", "expect": ["english_only", "no_faq"]}]),
    ("nonsense at the name question is no answer and no FAQ", [
        BOOK, {"user": "blorf quantum zebra", "expect": [{"asks": "name"}, "no_faq", {"filled": {"lead_name": None}}]}]),
    ("a keyboard mash is not a name", [
        BOOK, {"user": "asdf", "expect": [{"asks": "name"}, {"says": "doesn't look like a name"}]}]),
    ("a name made of ordinary words is a name", [
        BOOK, {"user": "Dexter Bone", "expect": [{"filled": {"lead_name": "Dexter Bone"}}, {"asks": "contact"}, "no_faq"]}]),
    ("a question at the name question is answered, then the name asked again", [
        BOOK, {"user": "what's a dexa scan?", "expect": [{"faq": "dexa_scan"}, {"asks": "name"}]}]),
    ("why the assistant needs a detail", [
        BOOK, {"user": "Maria Lopez", "expect": [{"asks": "contact"}]},
        {"user": "why do you need that?", "expect": ["reason", {"asks": "contact"}]}]),
    ("a question and a cost question get both", [
        {"user": "what's a dexa scan and how much does one cost at your clinic",
         "expect": [{"faq": "dexa_scan"}, {"inquiry": "cost"}, {"asks": "name"}]}]),
    ("code gets no medical answer", [{"user": "'; DROP TABLE leads; --", "expect": ["no_faq", "not_understood"]}]),
    ("a past fall is no emergency", [
        {"user": "I fell last year but I'm fine now, which exercises help my balance?",
         "expect": ["no_emergency", {"faq": "balance_exercises"}]}]),
    ("a stroke in plain words gets 911", [
        {"user": "my husband's face is drooping and he can't lift his arm", "expect": ["emergency"]}]),
]


@pytest.mark.parametrize("name, turns", CONVERSATIONS, ids=[name for name, _ in CONVERSATIONS])
def test_visitor_gets_the_right_reply(rasa_server, name, turns):
    scores = realistic.play_conversations(rasa_server.url, [{"name": name, "category": "kind", "turns": turns}],
                                          token=rasa_server.stack.api_token)
    assert scores.passed == 1, scores.failures
