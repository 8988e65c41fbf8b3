"""Gibberish, keyboard mashes and code: messages that must never get a medical answer.

The classifier always names some intent, however strange the message; these signals do not
depend on it:
- code and markup (SQL, HTML, script, shell);
- keyboard mashes ("asdfgh", "jjjjjj", "qwerty uiop");
- words English does not know (wordfreq's word lists, inside the package) and the training
  data never used, not even with a typo ("blorf", "zxqv"; "osteopena" is known), or, with two
  content words or more, none the training data ever used and one English does not know either
  ("blorf quantum zebra").

`is_nonsense(text, vocabulary)` takes the training data's vocabulary (lower-case words).
Used by `nlp.components.NonsenseDetector`.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable

from rapidfuzz import process
from rapidfuzz.distance import OSA
from wordfreq import tokenize, zipf_frequency

# Below this Zipf frequency a word is unknown to English (3 is once per million words): the cut-off
# of wordfreq's "small" English list, 4 MB where the full one takes 60 MB in Rasa's process.
UNKNOWN_ZIPF = 3.0
_CODE = re.compile(
    r"<\s*/?\s*(?:script|img|iframe|svg|a|div|body|html|style|input)\b|</\w+>|javascript:|\bon\w+\s*="
    r"|;\s*--|'\s*or\s+'?1'?\s*=\s*'?1|\b(?:drop|truncate|alter)\s+table\b|\bunion\s+select\b"
    r"|\bselect\s+(?:\*|[\w,\s]+)\s+from\b|\binsert\s+into\b|\bdelete\s+from\b|\bupdate\s+\w+\s+set\b"
    r"|\b(?:function|def|class|import|console\.log|print|return|var|let|const)\b[^\n]{0,40}[(){};=]"
    r"|[{}]\s*[\w\"']+\s*[:=]|\$\(|`[^`]*`|&&|\|\||\|\s*(?:ba|z)?sh\b|#!/|\b(?:rm|sudo|curl|wget)\s+-",
    re.IGNORECASE,
)
_CONTACT = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+|\d{3}\D{0,3}\d{3}\D{0,3}\d{4}")
_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm", "1234567890")
_VOWELS = set("aeiouy")
# Words too common to show a message is about anything.
_FUNCTION_WORDS = set(
    "a an the and or but if of to in on at by for with from up about into over after is are was were be been "
    "am do does did have has had i me my you your he she it we they them this that these those what which who "
    "how why when where can could would should will just so not no yes ok okay please hi hey hello there "
    "thanks thank some any all".split()
)


def _keyboard_run(word: str) -> bool:
    for row in _KEYBOARD_ROWS:
        for start in range(len(row) - 3):
            if row[start:start + 4] in word or row[start:start + 4][::-1] in word:
                return True
    return False


def is_mash(word: str) -> bool:
    """A token typed without meaning: a keyboard run, one letter repeated, or no vowel in five letters."""
    word = word.lower()
    if len(word) >= 4 and len(set(word)) == 1:
        return True
    if len(_plain(word)) <= 2 and len(word) >= 4:
        return True
    if len(word) >= 4 and _keyboard_run(word) and zipf_frequency(word, "en", wordlist="small") < UNKNOWN_ZIPF:
        return True
    base = "".join(ch for ch in unicodedata.normalize("NFD", word) if not unicodedata.combining(ch))
    return len(word) >= 5 and word.isalpha() and not (_VOWELS & set(base))


def _plain(word: str) -> str:
    """The word with stretched letters shortened ("hellooo" -> "hello")."""
    return re.sub(r"(.)\1{2,}", r"\1", word)


def _known(word: str, vocabulary: set[str]) -> bool:
    word = _plain(word)
    if word in vocabulary or zipf_frequency(word, "en", wordlist="small") >= UNKNOWN_ZIPF:
        return True
    if len(word) < 4:
        return False
    # A typo of a word the training data uses ("osteopena", "calcuim").
    limit = 1 if len(word) < 8 else 2
    return process.extractOne(word, vocabulary, scorer=OSA.distance, score_cutoff=limit) is not None


def is_nonsense(text: str, vocabulary: Iterable[str] | set[str]) -> bool:
    """True when the message is code, a mash, or made of words nobody uses."""
    if _CODE.search(text):
        return True
    if _CONTACT.search(text):
        # An email address or a phone number is a detail, whatever else surrounds it.
        return False
    words = [w for w in tokenize(text, "en") if re.search(r"[a-z]", w)]
    if not words:
        # Emoji, digits or punctuation alone.
        return bool(text.strip()) and not re.search(r"\d{3}", text)
    known = vocabulary if isinstance(vocabulary, set) else set(vocabulary)
    mashes = sum(1 for w in words if is_mash(w))
    if mashes * 2 >= len(words):
        return True
    unknown = [w for w in words if not _known(w, known)]
    if len(unknown) * 2 >= len(words) and len(words) <= 6:
        return True
    content = [_plain(w) for w in words if _plain(w) not in _FUNCTION_WORDS]
    return 2 <= len(content) <= 6 and bool(unknown) and not any(w in known for w in content)


def vocabulary_of(texts: Iterable[str]) -> set[str]:
    """The lower-case words of the training examples."""
    return {w for text in texts for w in tokenize(text, "en") if re.search(r"[a-z]", w)}
