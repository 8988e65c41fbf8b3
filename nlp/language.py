"""Which language a visitor writes in: English, Spanish, or another one.

Lingua (`lingua-language-detector`, models inside the package) names the likeliest language
among the ones visitors of a clinic in Virginia most often write; wordfreq's word lists (also
inside the package) then confirm it, so an English message full of medical words ("citrate or
carbonate") or a keyboard mash ("asdf") is never taken for Italian or French.

`detect(text)` returns an ISO 639-1 code ("es", "fr", ...) for a message that is clearly not
English, else None. Used by `nlp.components.LanguageDetector`.
"""

from __future__ import annotations

import re
from functools import cached_property

from lingua import Language, LanguageDetectorBuilder
from wordfreq import tokenize, zipf_frequency

# Latin-script languages the clinic's visitors may write, and one language for each other script,
# so that lingua settles those by their letters alone without loading models (17 MB in all; five
# more languages sharing the Cyrillic and Arabic scripts would take 50 MB more).
CANDIDATES = (
    Language.ENGLISH, Language.SPANISH, Language.FRENCH, Language.GERMAN, Language.PORTUGUESE,
    Language.ITALIAN, Language.VIETNAMESE, Language.TAGALOG, Language.POLISH,
    Language.CHINESE, Language.JAPANESE, Language.KOREAN, Language.RUSSIAN, Language.ARABIC, Language.HINDI,
    Language.GREEK, Language.HEBREW, Language.THAI, Language.BENGALI,
)
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)
_LATIN = re.compile(r"[A-Za-zÀ-ÖØ-öø-ɏ]")
# Greetings and thanks that carry a language on their own.
_SHORT_SPANISH = {"hola", "gracias", "buenos días", "buenos dias", "buenas tardes", "buenas noches", "ayuda",
                  "por favor", "hola buenas", "muchas gracias", "¿hablan español?", "hablan español",
                  "habla español", "español", "espanol"}


class LanguageIdentifier:
    """Lingua's detector over the candidate languages, built on first use (low-accuracy mode)."""

    @cached_property
    def _detector(self):
        # Low-accuracy mode uses trigrams only: a tenth of the memory, and the word lists below
        # settle the short messages it is unsure of.
        return LanguageDetectorBuilder.from_languages(*CANDIDATES).with_low_accuracy_mode().build()

    def detect(self, text: str) -> str | None:
        """ISO 639-1 code of a message clearly not in English, else None."""
        stripped = " ".join(text.split())
        letters = _LETTERS.findall(stripped)
        if len(letters) < 2:
            return None
        if stripped.lower().strip("!.?¡¿ ") in _SHORT_SPANISH:
            return "es"
        latin_share = sum(1 for ch in letters if _LATIN.match(ch)) / len(letters)
        ranked = [c for c in self._detector.compute_language_confidence_values(stripped) if c.value >= 0.05]
        if not ranked:
            return None
        if latin_share < 0.5:
            # Another script says it at once (Cyrillic, Han, Hangul, Arabic, Devanagari ...).
            top = ranked[0]
            return None if top.language == Language.ENGLISH else _code(top.language)
        words = {w for w in tokenize(stripped, "en") if _LETTERS.search(w)}
        candidates = [c.language for c in ranked[:3]]
        inverted_marks = "¿" in stripped or "¡" in stripped
        if inverted_marks and Language.SPANISH not in candidates:
            candidates.insert(0, Language.SPANISH)
        # Each word votes for the language in which it is clearly more common than in English; the
        # language with most votes wins, at least two and more than English's, so a lone name
        # ("Eduardo") or a mash is never a language.
        best, best_votes = None, 0
        for language in candidates:
            if language == Language.ENGLISH:
                continue
            code = _code(language)
            theirs = english = 0
            for word in words:
                margin = zipf_frequency(word, code, wordlist="small") - zipf_frequency(word, "en", wordlist="small")
                theirs += margin >= 1.0
                english += margin <= -1.0
            # "¿aceptan Medicare?": Spanish's own question mark settles a tie.
            marked = inverted_marks and language == Language.SPANISH and theirs and theirs >= english
            if (theirs >= 2 and theirs > english or marked) and theirs > best_votes:
                best, best_votes = code, theirs
        return best


def _code(language: Language) -> str:
    return language.iso_code_639_1.name.lower()
