"""What a person's name looks like to the inquiry's name question."""

import pytest

from bot.names import looks_like_name


@pytest.mark.parametrize("name", [
    "Maria Lopez", "María José García-López", "O'Brien", "Siobhan", "王小明", "Мария Иванова", "Nguyễn Thị Lan",
    "Oluwaseun Adeyemi", "Mohammed bin Rashid", "Dexter Bone", "Faith Walker", "Rose Fall", "Joy Payne",
    "Xochitl", "Zbigniew Brzezinski", "Dr. Smith", "Mary-Kate Olsen", "Jo",
])
def test_names_of_many_origins_and_shapes_are_names(name):
    assert looks_like_name(name)


@pytest.mark.parametrize("text", [
    "asdf", "asdf asdf", "test test", "test", "jjjj", "qwerty", "a", "x", "blorf quantum zebra", "hello there",
    "what is a dexa scan", "sdfghk", "idk", "none", "no", "my back hurts when i walk around the house",
])
def test_mashes_placeholders_and_sentences_are_not(text):
    assert not looks_like_name(text)
