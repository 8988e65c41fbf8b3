"""What the inquiry accepts as answers, and how it reads them back."""

from __future__ import annotations

import pytest
import yaml

from bot import inquiry
from bot.areas import canonical_area, canonical_areas, find_area
from bot.settings import PROJECT_ROOT


@pytest.mark.parametrize(
    "answer, name",
    [
        ("Maria Lopez", "Maria Lopez"),
        ("my name is maria lopez", "Maria Lopez"),
        ("I'm Jo", "Jo"),
        ("it's Dr. Anne O'Neil", "Dr. Anne O'Neil"),
        ("call me Sam.", "Sam"),
        ("josé de la cruz", "José De La Cruz"),
    ],
)
def test_a_name_is_found_in_the_answer(answer, name):
    assert inquiry.clean_name(answer) == name


@pytest.mark.parametrize("answer", ["", "yes", "no", "804 555 0134", "jo@example.com", "what do you need my name for?",
                                    "i would rather tell you everything about my back pain first please",
                                    "asdf", "test test", "blorf quantum zebra", "q"])
def test_answers_that_are_not_names_are_refused(answer):
    assert inquiry.clean_name(answer) is None


@pytest.mark.parametrize("answer, name", [("her name is Opal Jenkins", "Opal Jenkins"), ("Calvin Reed Jr.", "Calvin Reed Jr."),
                                          ("Dexter Bone", "Dexter Bone")])
def test_names_keep_their_shape(answer, name):
    assert inquiry.clean_name(answer) == name


@pytest.mark.parametrize(
    "slot, text, intent",
    [
        ("lead_name", "Dexter Bone", "faq"),
        ("lead_name", "blorf quantum zebra", "out_of_scope"),
        ("lead_name", "why do you need that?", "out_of_scope"),
        ("lead_name", "王小明", "non_english"),
        ("lead_name", "Nguyễn Thị Lan", "non_english"),
        ("contact", "eight oh four five five five oh one six two", "faq"),
        ("area_of_concern", "my shoulder", "faq"),
        ("preferred_times", "tuesday after 3", "inquire_availability"),
        ("contact", "I'd rather not give that out online", "deny"),
    ],
)
def test_a_reply_is_the_answer_unless_it_clearly_is_something_else(slot, text, intent):
    assert inquiry.reads_as_answer(slot, text, intent)


@pytest.mark.parametrize(
    "slot, text, intent",
    [
        ("lead_name", "what's a dexa scan", "faq"),
        ("lead_name", "I want to kill myself", "self_harm"),
        ("contact", "my mom fell and can't get up", "emergency"),
        ("lead_name", "stop", "stop"),
        ("area_of_concern", "is walking ok for my hip?", "faq"),
        ("lead_name", "necesito una cita por favor", "non_english"),
        ("preferred_times", "how much does a visit cost", "inquire_cost"),
    ],
)
def test_questions_crises_and_other_requests_are_not_answers(slot, text, intent):
    assert not inquiry.reads_as_answer(slot, text, intent)


def test_every_question_has_its_reason_with_the_clinic_phone():
    for slot in (*inquiry.FREE_TEXT_SLOTS, "consent"):
        assert inquiry.reason_for(slot, "(804) 493-3256")
    assert "(804) 493-3256" in inquiry.reason_for("contact", "(804) 493-3256")
    assert inquiry.asks_why("why do you need my number?") and inquiry.asks_why("I'd rather not say")
    assert not inquiry.asks_why("Maria Lopez")


def test_an_inquiry_kind_is_read_from_a_two_request_intent():
    assert inquiry.kind_for_intent("faq+inquire_cost") == "cost"
    assert inquiry.kind_for_intent("faq+request_appointment") == "appointment"
    assert inquiry.kind_for_intent("request_callback") == "callback"


def test_contact_details_are_found_in_a_sentence():
    found = inquiry.parse_contact("you can text me at 804.555.0134 or email Jo@Example.com")
    assert (found.phone, found.email) == ("+18045550134", "Jo@example.com")
    assert not inquiry.parse_contact("555 0134").found


@pytest.mark.parametrize(
    "phrase, area",
    [("my lower back", "Lower back"), ("Knees", "Knee"), ("both hips", "Hip"), ("the left wrist", "Wrist"),
     ("Balance and falls", "Balance and falls")],
)
def test_area_phrases_map_to_the_names_staff_see(phrase, area):
    assert canonical_area(phrase) == area
    assert inquiry.clean_area(phrase) == area


def test_an_area_described_in_a_sentence_keeps_the_sentence():
    text = "a sharp pain in my left hip when I climb stairs"
    assert inquiry.clean_area(text) == text
    assert find_area(text) == "Hip"


@pytest.mark.parametrize("answer, stored", [("skip", "not given"), ("No insurance", "No insurance"), ("Medicare", "Medicare")])
def test_insurance_answers(answer, stored):
    assert inquiry.clean_insurance(answer) == stored


def test_times_must_be_an_answer_not_a_question():
    assert inquiry.clean_times("weekday mornings") == "weekday mornings"
    assert inquiry.clean_times("what times do you have?") is None


@pytest.mark.parametrize(
    "text, slots",
    [
        ("actually my number is 804 555 0188", {"contact_phone": "+18045550188"}),
        ("sorry, my email is sam@example.org", {"contact_email": "sam@example.org"}),
        ("change the name to Sam Jones", {"lead_name": "Sam Jones"}),
        ("name", {"lead_name": None}),
        ("preferred times", {"preferred_times": None}),
        ("phone or email", {"contact": None, "contact_phone": None, "contact_email": None}),
    ],
)
def test_corrections_at_the_read_back(text, slots):
    correction = inquiry.parse_correction(text)
    assert correction is not None
    for key, value in slots.items():
        assert correction.slots[key] == value


@pytest.mark.parametrize(
    "text, slots",
    [
        ("actually it's my knee", {"area_of_concern": "Knee"}),
        ("it's my hip not my knee", {"area_of_concern": "Hip"}),
        ("actually it's weekends", {"preferred_times": "weekends"}),
        ("friday afternoons instead", {"preferred_times": "friday afternoons"}),
        ("the name should be Margaret not Maggie", {"lead_name": "Margaret Lopez"}),
        ("it's spelled Lopes not Lopez", {"lead_name": "Maggie Lopes"}),
        ("actually email me at sam@example.org", {"contact_email": "sam@example.org", "contact_phone": None}),
    ],
)
def test_corrections_change_the_detail_meant_and_only_that(text, slots):
    read_back = {"lead_name": "Maggie Lopez", "contact_phone": "+18045550134", "area_of_concern": "Hip",
                 "inquiry_kind": "appointment"}
    correction = inquiry.parse_correction(text, read_back)
    assert correction is not None and not correction.asks_again
    assert {key: correction.slots.get(key) for key in slots} == slots
    assert set(correction.slots) <= set(slots) | {"contact"}


def test_insurance_can_be_changed_only_where_it_was_asked():
    assert inquiry.parse_correction("insurance", {"inquiry_kind": "cost"}).slots == {"insurance": None}
    assert inquiry.parse_correction("insurance", {"inquiry_kind": "appointment"}) is None


@pytest.mark.parametrize("text", ["no", "yes that's fine", "actually it's fine"])
def test_answers_naming_nothing_to_change(text):
    assert inquiry.parse_correction(text, {"lead_name": "Jo"}) is None


@pytest.mark.parametrize("answer", ["no", "idk", "not sure", "?", "which areas do you treat?"])
def test_non_answers_are_not_an_area(answer):
    assert inquiry.clean_area(answer) is None


def test_every_area_button_is_an_area_staff_see():
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
    buttons = domain["responses"]["utter_ask_area_of_concern"][0]["buttons"]
    assert buttons
    for button in buttons:
        assert canonical_area(button["payload"]) in canonical_areas(), button


def test_the_read_back_lists_only_what_applies():
    text = inquiry.readback({"inquiry_kind": "appointment", "lead_name": "Jo", "contact_email": "jo@example.com",
                             "area_of_concern": "Hip", "preferred_times": "mornings"})
    assert "Email: jo@example.com" in text and "Phone" not in text and "Insurance" not in text
