"""What a person's name looks like, for the inquiry's "What name should our staff use for you?".

Accents, apostrophes, hyphens, one word or several, any script are names; keyboard mashes,
single letters, placeholders ("asdf", "test test"), sentences and strings of ordinary English
words ("blorf quantum zebra") are not. A word that is also a common English word ("Bone",
"Walker", "Rose") still makes a name when a given name stands beside it ("Dexter Bone").

Sources: given names from gender-guesser's name dictionary (about 40,000 first names from many
countries), word frequencies from wordfreq's English list; both ship inside their packages.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import gender_guesser.detector
from wordfreq import zipf_frequency

# An English word at least this common (Zipf 4: once in 10,000 words) is not a name on its own.
COMMON_WORD_ZIPF = 4.0
# Common enough that, with no given name beside it, it reads as a word rather than a surname.
ORDINARY_WORD_ZIPF = 3.0
MAX_WORDS = 5
_PARTICLES = {"de", "del", "della", "der", "den", "la", "le", "van", "von", "da", "das", "dos", "di", "du",
              "bin", "binti", "bint", "al", "el", "ibn", "st", "mc", "mac", "y", "e", "ben", "ter", "ten"}
_NOT_NAMES = {"test", "testing", "asdf", "qwerty", "name", "names", "none", "nobody", "anonymous", "anon",
              "user", "unknown", "na", "n/a", "xxx", "abc", "foo", "bar", "blah", "idk", "nope", "yes", "no",
              "ok", "okay", "sure", "hello", "hi", "hey", "me", "myself", "skip", "why", "what", "whatever",
              "nothing", "null", "undefined", "lol", "haha", "stop", "cancel", "help", "pass", "private"}
_TITLES = {"mr", "mrs", "ms", "miss", "dr", "mx", "prof", "rev", "sr", "sra", "srta"}
_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_LATIN_LETTER = re.compile(r"[A-Za-zÀ-ÖØ-öø-ɏ]")
_NAME_WORD = re.compile(r"^[^\W\d_]+(?:['’.\-][^\W\d_]+)*\.?$")
_VOWELS = set("aeiouy")


@cache
def _given_names() -> gender_guesser.detector.Detector:
    return gender_guesser.detector.Detector(case_sensitive=False)


def is_given_name(word: str) -> bool:
    parts = [p for p in re.split(r"[-’']", word.strip(".")) if len(p) > 1]
    return bool(parts) and any(_given_names().get_gender(part) != "unknown" for part in parts)


def _mashed(word: str) -> bool:
    lowered = word.lower()
    if len(lowered) >= 3 and len(set(lowered)) == 1:
        return True
    for row in _KEYBOARD_ROWS:
        for start in range(len(row) - 3):
            if row[start:start + 4] in lowered:
                return True
    latin = "".join(ch for ch in lowered if _LATIN_LETTER.match(ch))
    return len(latin) >= 5 and latin == lowered and not (_VOWELS & set(_base_letters(latin)))


def _base_letters(word: str) -> str:
    """The letters without their marks ("hương" -> "huong"), so a vowel with a hook is still a vowel."""
    return "".join(ch for ch in unicodedata.normalize("NFD", word) if not unicodedata.combining(ch))


def looks_like_name(text: str) -> bool:
    """True when `text` (already without "my name is") reads as a person's name."""
    words = text.split()
    titled = len(words) > 1 and words[0].lower().strip(".") in _TITLES
    if titled:
        words = words[1:]
    if not words or len(words) > MAX_WORDS or len(text) > 80:
        return False
    if not all(_NAME_WORD.match(word) for word in words):
        return False
    lowered = [w.lower().strip(".") for w in words]
    if any(w in _NOT_NAMES for w in lowered) or len(set(lowered)) < len(lowered):
        return False
    if any(_mashed(w) for w in words):
        return False
    latin = [w for w in words if _LATIN_LETTER.search(w)]
    if not latin:
        # Another script (王小明, Мария Иванова, محمد): nothing here to judge it by.
        return True
    if len(words) == 1 and len(words[0]) == 1:
        return False
    if titled or any(is_given_name(w) for w in latin if len(w) > 1):
        return True
    core = [w for w in lowered if w not in _PARTICLES]
    if len(core) == 1:
        return zipf_frequency(core[0], "en") < COMMON_WORD_ZIPF
    ordinary = sum(1 for w in core if zipf_frequency(w, "en") >= ORDINARY_WORD_ZIPF)
    return ordinary * 2 < len(core)
