import phonenumbers
import pytest

from bot.leads.contact import find_email, find_phone, format_phone, mailto_href, normalize_email, normalize_phone


@pytest.mark.parametrize(
    "typed",
    [
        "(804) 555-0188",
        "804-555-0188",
        "804.555.0188",
        "804 555 0188",
        "8045550188",
        "1-804-555-0188",
        "+1 804 555 0188",
        "+1 (804) 555-0188",
        "+18045550188",
        "  804 555 0188  ",
    ],
)
def test_us_numbers_in_any_usual_format_become_e164(typed):
    assert normalize_phone(typed) == "+18045550188"


def test_the_clinic_number_normalises():
    assert normalize_phone("(804) 493-3256") == "+18044933256"


def test_an_international_number_with_a_plus_keeps_its_country():
    assert normalize_phone("+44 20 7946 0958") == "+442079460958"


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("804-555-0188 ext. 12", "+18045550188;ext=12"),
        ("(804) 555-0188 x7", "+18045550188;ext=7"),
        ("804 555 0188 extension 301", "+18045550188;ext=301"),
    ],
)
def test_an_extension_is_kept_in_rfc3966_form(typed, expected):
    normalised = normalize_phone(typed)
    assert normalised == expected
    parsed = phonenumbers.parse(normalised, None)
    assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == "+18045550188"
    assert parsed.extension == expected.rsplit("=", 1)[1]


@pytest.mark.parametrize(
    "typed",
    [
        None,
        "",
        "   ",
        "555-0188",  # no area code
        "123",
        "804 123 4567",  # no US exchange starts with 1
        "000 000 0000",
        "804 555 01888 9",  # too many digits
        "call me maybe",
        "8" * 400,
    ],
)
def test_what_is_not_a_phone_number_gives_none(typed):
    assert normalize_phone(typed) is None


@pytest.mark.parametrize(
    "stored, shown",
    [
        ("+18045550188", "(804) 555-0188"),
        ("+18045550188;ext=12", "(804) 555-0188 ext. 12"),
        ("+442079460958", "+44 20 7946 0958"),
    ],
)
def test_format_phone_reads_like_people_write_it(stored, shown):
    assert format_phone(stored) == shown


@pytest.mark.parametrize(
    "sentence, expected",
    [
        ("actually my number is 804 555 0188", "+18045550188"),
        ("Call me at (804) 493-3256 after 5pm please", "+18044933256"),
        ("it's 8045550188.", "+18045550188"),
        ("my cell: +1 804-555-0188 ext 4, thanks", "+18045550188;ext=4"),
    ],
)
def test_find_phone_pulls_the_number_out_of_a_sentence(sentence, expected):
    assert find_phone(sentence) == expected


@pytest.mark.parametrize(
    "sentence",
    [None, "", "I'm 65 and my back hurts since 2019", "email me at maria@example.com", "my number is 555-0188",
     "one two three", "I have two kids and one dog, and four grandchildren"],
)
def test_find_phone_finds_nothing_where_there_is_no_number(sentence):
    assert find_phone(sentence) is None


@pytest.mark.parametrize("said", ["eight oh four five five five oh one six two", "eight oh four, double five five, oh one six two"])
def test_find_phone_reads_a_number_said_in_words(said):
    assert find_phone(said) == "+18045550162"


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("maria@example.com", "maria@example.com"),
        ("Maria.Lopez@Example.COM", "Maria.Lopez@example.com"),
        ("  maria@example.org \n", "maria@example.org"),
        ("mailto:maria@example.net", "maria@example.net"),
        ("maria+clinic@mail.example.co.uk", "maria+clinic@mail.example.co.uk"),
    ],
)
def test_valid_email_addresses_normalise_with_a_lowercase_domain(typed, expected):
    assert normalize_email(typed) == expected


@pytest.mark.parametrize(
    "typed",
    [
        None,
        "",
        "maria",
        "maria@",
        "@example.com",
        "maria@@example.com",
        "maria lopez@example.com",
        "maria@example",
        "maria@exa mple.com",
        "x" * 400 + "@example.com",
        # Valid by the RFCs, but a mailto: link built from them would add a CC or hide characters.
        "a?cc=someone%40elsewhere.example@example.com",
        "a%40elsewhere.example@example.com",
        "a#b@example.com",
        "a&cc=x@example.com",
        "a/b@example.com",
        '"a?b"@example.com',
    ],
)
def test_invalid_email_addresses_give_none(typed):
    assert normalize_email(typed) is None


@pytest.mark.parametrize(
    "sentence, expected",
    [
        ("actually my email is Maria.Lopez@Example.COM.", "Maria.Lopez@example.com"),
        ("write to <maria@example.org>, thanks!", "maria@example.org"),
        ("not maria@ but maria@example.net please", "maria@example.net"),
        ("(maria@example.com)", "maria@example.com"),
    ],
)
def test_find_email_pulls_the_address_out_of_a_sentence(sentence, expected):
    assert find_email(sentence) == expected


@pytest.mark.parametrize("sentence", [None, "", "call 804 555 0188", "I'm @ home after 5", "maria at example dot com"])
def test_find_email_finds_nothing_where_there_is_no_address(sentence):
    assert find_email(sentence) is None


def test_an_address_with_a_cc_trick_in_a_sentence_is_not_found():
    assert find_email("my email is a?cc=someone%40elsewhere.example@example.com thanks") is None


@pytest.mark.parametrize(
    "address, href",
    [
        ("maria@example.com", "mailto:maria@example.com"),
        ("o'brien+pt@example.com", "mailto:o%27brien%2Bpt@example.com"),
        # Stored before such addresses were refused: the link still opens a message to it alone.
        ("a?cc=someone%40elsewhere.example@example.com", "mailto:a%3Fcc%3Dsomeone%2540elsewhere.example@example.com"),
    ],
)
def test_mailto_links_are_encoded(address, href):
    assert mailto_href(address) == href
