"""The clinic's article text turned into the page's title, byline, headings and paragraphs."""

from __future__ import annotations

from datetime import date

import pytest

from bot.settings import Settings
from bot.web.content import ContentError, load_articles, parse_article

BLOG_CRUFT = ("» Blog", "Click Here >>", "Reqeust An Appointment", "Where Does It Hurt?", "click where it hurts")


@pytest.fixture(scope="module")
def article():
    return load_articles(Settings().content_dir)[0]


def all_text(article) -> str:
    parts = [article.title, article.author]
    parts += [block.text for block in article.lead]
    for section in article.sections:
        parts.append(section.heading)
        parts += [block.text for block in section.blocks]
    return "\n".join(parts)


def test_the_clinics_article_has_title_byline_and_headings(article):
    assert article.title == "What Are The Best Exercises For Osteoporosis?"
    assert article.author == "Dr. Arnan Sisson, PT"
    assert article.published == date(2022, 12, 14)
    assert article.slug == "osteoporosis-exercises-blog"
    for heading in [
        "What Is Osteoporosis?",
        "Osteopenia vs. Osteoporosis - What's The Difference?",
        "Calcium supplements for osteoporosis",
        "Vitamin D and Osteoporosis",
        "Best Exercises For Osteoporosis",
        "Balance Exercises For Osteoporosis",
    ]:
        assert heading in article.headings


def test_sub_headings_sit_below_the_main_headings(article):
    levels = {section.heading: section.level for section in article.sections}

    assert levels["Calcium and Osteoporosis"] == 2
    assert levels["What are dietary sources of calcium?"] == 3
    assert levels["Calcium supplements for osteoporosis"] == 3


def test_sentences_stay_paragraphs(article):
    section = next(s for s in article.sections if s.heading == "Calcium and Osteoporosis")
    paragraphs = [block.text for block in section.blocks]

    assert "Probably not very much." in paragraphs
    assert all(block.kind == "paragraph" for block in section.blocks)
    assert "Probably not very much." not in article.headings


def test_blog_navigation_is_dropped(article):
    text = all_text(article)

    for cruft in BLOG_CRUFT:
        assert cruft not in text


def test_the_blogs_buttons_become_calls_to_action_in_place(article):
    assert [block.kind for block in article.lead] == ["paragraph", "cost"]
    closing = article.sections[-1]
    assert closing.heading == "Need help to start an exercise program for osteoporosis?"
    assert closing.blocks[-1].kind == "appointment"
    assert closing.blocks[-1].chat_message == "I'd like to book an appointment"
    assert article.lead[-1].chat_message == "How much does a visit cost?"


def test_anchors_are_unique(article):
    anchors = [section.anchor for section in article.sections]

    assert len(anchors) == len(set(anchors))
    assert "what-is-osteoporosis" in anchors


def test_a_repeated_heading_gets_its_own_anchor():
    article = parse_article("Title Here\n\nTips\n\nOne.\n\nTips\n\nTwo.\n", slug="tips")

    assert [s.anchor for s in article.sections] == ["tips", "tips-more"]


def test_a_file_without_a_title_is_refused():
    with pytest.raises(ContentError, match="no title"):
        parse_article("Only a sentence that ends with a period.\n", slug="broken")


def test_missing_or_empty_content_folder_is_refused(tmp_path):
    with pytest.raises(ContentError, match="does not exist"):
        load_articles(tmp_path / "missing")
    with pytest.raises(ContentError, match="no article"):
        load_articles(tmp_path)
