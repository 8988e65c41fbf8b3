"""Which inquiry a message asks for in its own words, where the classifier placed it elsewhere."""

from __future__ import annotations

import pytest

from nlp.two_requests import asks_for_advice, asks_something, rescued_request


@pytest.mark.parametrize("text", [
    "tommorow afternon?", "wed the 23rd at 2:30?", "Jan 4 around 10?", "anything dec 10",
    "whats open around lunchtime", "can my mom get in next week", "do you have room for one more patient",
])
def test_a_question_about_days_or_times_asks_for_openings(text):
    assert rescued_request(text) == "inquire_availability"


@pytest.mark.parametrize("text", ["what is a dexa scan?", "how much vitamin d per day?", "is walking good for my hip?",
                                  "tuesday or thursday morning", "why?", "my back hurts in the morning"])
def test_other_messages_ask_for_no_inquiry(text):
    assert rescued_request(text) is None


def test_a_letter_requesting_an_appointment_asks_for_one():
    letter = "Dear Montross Physical Therapy,\n\nI am writing to request an evaluation for my father. He is free on Mondays."
    assert asks_something(letter) and rescued_request(letter) == "request_appointment"


@pytest.mark.parametrize("text", ["should I stop my alendronate? can I book too", "is it safe to lift with my score, any openings?"])
def test_a_personal_medical_question_keeps_its_answer(text):
    assert asks_for_advice(text)


def test_a_statement_asks_nothing():
    assert not asks_something("my knee hurts when i climb stairs")
