"""The question in a long message (nlp/focus.py, pure Python, also run in Rasa's pipeline)."""

from nlp.focus import LONG_MESSAGE, question_part

STORY = ("Hi there, I'm 71 and my daughter printed your article for me. I read it every morning with my coffee. "
         "I went to the pharmacy yesterday and there were fifty calcium bottles, some carbonate, some citrate. "
         "My neighbor swears by chewing Tums. So what I'm really asking is, what's the difference between those "
         "two kinds? Thank you kindly, Doris")


def test_a_long_story_is_read_on_its_question_and_the_sentence_before():
    assert question_part(STORY) == ("My neighbor swears by chewing Tums. So what I'm really asking is, "
                                    "what's the difference between those two kinds?")


def test_short_messages_are_left_whole():
    text = "what is a dexa scan. also how much does it cost?"
    assert len(text) <= LONG_MESSAGE and question_part(text) == text


def test_a_long_message_asking_nothing_keeps_its_end():
    text = "My mother is 84. " * 10 + "She fell twice this year. She lives alone now."
    assert question_part(text) == "She fell twice this year. She lives alone now."
