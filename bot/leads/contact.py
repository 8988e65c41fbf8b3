"""Phone numbers and email addresses as visitors type them, checked and put in one form.

Phone numbers become E.164 (`+18045550188`), read as US numbers unless they start
with `+`. An extension the visitor gave is kept in the RFC 3966 form
(`+18045550188;ext=12`), which `phonenumbers` parses back. Email addresses are
checked for syntax only (no DNS lookups) and their domain is lowercased; those with characters
that change a `mailto:` link's meaning are refused.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import phonenumbers
from email_validator import EmailNotValidError, validate_email

DEFAULT_REGION = "US"
# Longest input worth parsing: anything longer is not a phone number or an address.
_MAX_INPUT = 320

# Candidate addresses in a sentence; email-validator decides which are real.
_EMAIL_CANDIDATE = re.compile(r"[^\s<>()\[\],;:\"']+@[^\s<>()\[\],;:\"']+")
_TRAILING_PUNCTUATION = ".!?"
# Allowed in an address by the RFCs, but in a `mailto:` link they add headers (`?cc=`), hide
# characters (`%40`) or cut the address (`#`): no visitor's real address needs them.
_URL_TRICKS = frozenset('?%#&/\\"')


def _to_e164(number: phonenumbers.PhoneNumber) -> str:
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if number.extension:
        return f"{e164};ext={number.extension}"
    return e164


def normalize_phone(text: str | None) -> str | None:
    """The number in E.164, or None when `text` is not one valid phone number."""
    if not text or len(text) > _MAX_INPUT:
        return None
    try:
        number = phonenumbers.parse(text.strip(), DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return _to_e164(number)


_DIGIT_WORDS = {"zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4", "for": "4",
                "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9"}
_REPEATS = {"double": 2, "triple": 3}


def _spoken_digits(text: str) -> str:
    """Digits said in words, as voice typing writes them: "eight oh four double five" -> "80455"."""
    digits, repeat = [], 1
    for word in re.findall(r"[a-z]+|\d", text.lower()):
        if word in _REPEATS:
            repeat = _REPEATS[word]
        elif word in _DIGIT_WORDS or word.isdigit():
            digits.append((_DIGIT_WORDS.get(word) or word) * repeat)
            repeat = 1
    return "".join(digits)


def find_phone(text: str | None) -> str | None:
    """The first valid phone number inside a sentence, in E.164, or None; digits said in words count."""
    if not text:
        return None
    for candidate in (text, _spoken_digits(text)):
        for match in phonenumbers.PhoneNumberMatcher(candidate, DEFAULT_REGION, leniency=phonenumbers.Leniency.VALID):
            return _to_e164(match.number)
    return None


def format_phone(e164: str) -> str:
    """A stored number as people read it: `(804) 555-0188` for US numbers, international otherwise."""
    try:
        number = phonenumbers.parse(e164, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return e164
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 1
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


def normalize_email(text: str | None) -> str | None:
    """The address with its domain lowercased, or None when it is not a valid address."""
    if not text:
        return None
    candidate = text.strip()
    if candidate.lower().startswith("mailto:"):
        candidate = candidate[len("mailto:"):]
    if not candidate or len(candidate) > _MAX_INPUT:
        return None
    if _URL_TRICKS.intersection(candidate):
        return None
    try:
        result = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError:
        return None
    return result.normalized


def mailto_href(address: str) -> str:
    """A `mailto:` link that opens a message to `address` and nothing else, whatever it holds."""
    local, _, domain = address.rpartition("@")
    return f"mailto:{quote(local, safe='')}@{quote(domain, safe='.-')}"


def find_email(text: str | None) -> str | None:
    """The first valid email address inside a sentence, normalised, or None."""
    if not text:
        return None
    for match in _EMAIL_CANDIDATE.finditer(text):
        address = normalize_email(match.group(0).rstrip(_TRAILING_PUNCTUATION))
        if address:
            return address
    return None
