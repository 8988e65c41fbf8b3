"""A second FAQ question in the same message."""

from bot.questions import second_question

RANKING_SPLIT = [{"intent_response_key": "faq/calcium_supplements", "confidence": 0.52},
                 {"intent_response_key": "faq/vitamin_d", "confidence": 0.41},
                 {"intent_response_key": "faq/calcium_role", "confidence": 0.04}]
RANKING_ONE = [{"intent_response_key": "faq/dexa_scan", "confidence": 0.93},
               {"intent_response_key": "faq/t_score_z_score", "confidence": 0.05}]


def test_two_questions_sharing_the_confidence_get_the_second_answer():
    text = "carbonate vs citrate, and how much sun do I need for vitamin d"
    assert second_question(text, RANKING_SPLIT) == "faq/vitamin_d"


def test_one_question_gets_one_answer():
    assert second_question("what is a dexa scan and how does it work", RANKING_ONE) is None


def test_a_message_of_one_part_gets_one_answer_however_split_the_confidence():
    assert second_question("calcium supplements vitamin d", RANKING_SPLIT) is None
