import pytest

from cloudsms.domain.content import (
    CONTENT_MAX,
    MissingValue,
    render,
    renderer,
    validate_content,
    validate_mission_name,
    validate_sender,
    validate_signature,
    variables,
)
from cloudsms.domain.phone import Direction

GUIDE_CONTENT = "Hello ${Name}, your pin code is 123456, get more info via link: ${website}"
INTERNATIONAL = Direction.INTERNATIONAL
CHINA = Direction.MAINLAND_CHINA


# variables


def test_variables_are_listed_in_order_of_first_appearance() -> None:
    assert variables(GUIDE_CONTENT) == ["Name", "website"]


def test_a_repeated_variable_is_listed_once() -> None:
    assert variables("${b} ${a} ${b}") == ["b", "a"]


def test_spaces_inside_the_braces_name_the_same_variable() -> None:
    assert variables("Hi ${ Name }, bye ${Name}") == ["Name"]


def test_variable_names_may_be_chinese() -> None:
    assert variables("您好${姓名}") == ["姓名"]


def test_content_without_variables_has_none() -> None:
    assert variables("Your pin code is 123456") == []


# render


def test_the_guide_example_renders_with_the_signature_at_the_start() -> None:
    text = render(
        GUIDE_CONTENT,
        {"Name": "Amy", "website": "www.baidu.com"},
        "CloudSMS",
        "start",
        INTERNATIONAL,
        allow_unsubscribe=False,
    )

    assert text == (
        "[CloudSMS] Hello Amy, your pin code is 123456, get more info via link: www.baidu.com"
    )


def test_an_international_signature_at_the_end_follows_a_space() -> None:
    assert render("Hi", {}, "CloudSMS", "end", INTERNATIONAL, False) == "Hi [CloudSMS]"


def test_a_mainland_china_signature_takes_chinese_brackets_without_a_space() -> None:
    assert render("您好", {}, "云短信", "start", CHINA, False) == "【云短信】您好"
    assert render("您好", {}, "云短信", "end", CHINA, False) == "您好【云短信】"


def test_brackets_typed_around_the_signature_are_not_doubled() -> None:
    assert render("Hi", {}, "[CloudSMS]", "start", INTERNATIONAL, False) == "[CloudSMS] Hi"
    assert render("您好", {}, "【云短信】", "start", CHINA, False) == "【云短信】您好"


def test_no_signature_leaves_the_content_alone() -> None:
    assert render("Hi", {}, None, "start", INTERNATIONAL, False) == "Hi"
    assert render("Hi", {}, "  ", "end", INTERNATIONAL, False) == "Hi"


def test_an_allowed_unsubscribe_adds_the_english_sentence_internationally() -> None:
    text = render("Sale today.", {}, "Shop", "start", INTERNATIONAL, allow_unsubscribe=True)

    assert text == "[Shop] Sale today. Reply TD to unsubscribe"


def test_an_allowed_unsubscribe_adds_the_chinese_sentence_for_mainland_china() -> None:
    text = render("今日特价", {}, "商店", "end", CHINA, allow_unsubscribe=True)

    assert text == "今日特价 回T退订【商店】"


def test_a_value_is_inserted_literally_even_with_braces_or_variables_in_it() -> None:
    text = render("Hi ${Name}", {"Name": "{0} ${Name} }"}, None, "start", INTERNATIONAL, False)

    assert text == "Hi {0} ${Name} }"


def test_braces_in_the_content_and_signature_are_kept() -> None:
    text = render("a {b} ${x}", {"x": "1"}, "S{1}", "start", INTERNATIONAL, False)

    assert text == "[S{1}] a {b} 1"


def test_a_missing_value_is_refused() -> None:
    with pytest.raises(MissingValue, match="'website'"):
        render(GUIDE_CONTENT, {"Name": "Amy"}, None, "start", INTERNATIONAL, False)


def test_an_unknown_signature_position_is_refused() -> None:
    with pytest.raises(ValueError):
        renderer("Hi", "Sig", "middle", INTERNATIONAL, False)


def test_a_renderer_renders_each_recipient_from_one_preparation() -> None:
    render_values = renderer(GUIDE_CONTENT, "CloudSMS", "start", INTERNATIONAL, False)

    assert render_values({"Name": "Bob", "website": "www.sina.com.cn"}).startswith(
        "[CloudSMS] Hello Bob,"
    )
    assert render_values({"Name": "Amy", "website": "x"}).endswith("via link: x")


# validation


def test_good_content_passes() -> None:
    assert validate_content(GUIDE_CONTENT) is None


def test_empty_content_is_refused() -> None:
    assert validate_content("  \n") == "the content is empty"


@pytest.mark.parametrize(
    "invisible",
    [
        "\u200b",
        "\u200c\u200d",
        " \u2060 ",
        "\ufeff\n",
        "\u3000\u200b",
        "\u3164",  # Hangul filler
        "\u115f\u1160",
        "\u034f",  # combining grapheme joiner
        "\ufe0f",  # a variation selector
        "\u2800",  # braille blank
    ],
)
def test_content_of_only_spaces_and_invisible_characters_is_refused_as_empty(
    invisible: str,
) -> None:
    assert validate_content(invisible) == "the content is empty"


def test_content_with_a_visible_character_among_invisible_ones_passes() -> None:
    assert validate_content("\u200bHi\u200d") is None
    assert validate_content("\u2764\ufe0f") is None  # a heart with its emoji selector
    assert validate_content("\ud55c\uae00") is None  # Hangul, not a filler


@pytest.mark.parametrize("name", ["\u200b", " \u3164 "])
def test_a_mission_name_that_shows_nothing_is_empty(name: str) -> None:
    assert validate_mission_name(name) == "the mission name is empty"


def test_content_of_the_maximum_length_passes() -> None:
    assert validate_content("a" * CONTENT_MAX) is None


def test_content_over_1500_characters_is_refused() -> None:
    assert validate_content("a" * 1501) == "the content is longer than 1500 characters (1,501)"


def test_a_malformed_variable_is_refused() -> None:
    assert validate_content("Hi ${first name}!") == (
        "'${first name}' is not a variable: write ${Name} with letters, digits or underscores"
    )


def test_an_unclosed_variable_is_refused() -> None:
    reason = validate_content("Hi ${Name")

    assert reason is not None and reason.startswith("'${Name' is not a variable")


def test_variables_differing_only_in_case_are_refused() -> None:
    assert validate_content("${name} ${Name}") == (
        "the variables 'name' and 'Name' differ only in case"
    )


def test_a_nul_in_the_content_is_refused() -> None:
    assert validate_content("Your pin is\x00 123456") == (
        "the content holds the control character U+0000, which a phone cannot show: remove it"
    )


@pytest.mark.parametrize("control", ["\x01", "\x0b", "\x1b", "\x7f", "\x85"])
def test_other_control_characters_in_the_content_are_refused(control: str) -> None:
    reason = validate_content(f"Hi{control} there")

    assert reason is not None and reason.startswith("the content holds the control character")


def test_line_breaks_and_tabs_in_the_content_pass() -> None:
    assert validate_content("Hi ${Name},\r\nyour pin:\t123456\nBye") is None


def test_a_mission_name_over_two_lines_is_refused() -> None:
    assert validate_mission_name("two\nlines") == (
        "the mission name holds a line break: a name is one line of printable characters"
    )


@pytest.mark.parametrize(
    ("name", "named"),
    [
        ("a\ttab", "a tab"),
        ("carriage\rreturn", "a line break"),
        ("line\u2028separator", "a line break"),
        ("nul\x00", "the control character U+0000"),
    ],
)
def test_a_mission_name_with_a_control_character_is_refused(name: str, named: str) -> None:
    assert validate_mission_name(name) == (
        f"the mission name holds {named}: a name is one line of printable characters"
    )


def test_a_mission_name_of_30_characters_passes() -> None:
    assert validate_mission_name("m" * 30) is None


def test_a_mission_name_over_30_characters_is_refused() -> None:
    assert validate_mission_name("m" * 31) == ("the mission name is longer than 30 characters (31)")


def test_an_empty_mission_name_is_refused() -> None:
    assert validate_mission_name(" ") == "the mission name is empty"


def test_a_signature_of_20_characters_passes() -> None:
    assert validate_signature("s" * 20) is None


def test_a_signature_over_20_characters_is_refused() -> None:
    assert validate_signature("s" * 21) == "the signature is longer than 20 characters (21)"


def test_a_signature_with_brackets_inside_is_refused() -> None:
    assert validate_signature("Cloud]SMS") is not None


def test_no_signature_passes() -> None:
    assert validate_signature(None) is None


@pytest.mark.parametrize("sender", [None, "", "CloudSMS", "Cloud SMS-1", "ABCDEFGHIJK"])
def test_an_alphanumeric_sender_of_up_to_11_characters_passes(sender: str | None) -> None:
    assert validate_sender(sender) is None


@pytest.mark.parametrize("sender", ["639215347566", "+63921534756", "123456789012345"])
def test_a_numeric_sender_of_up_to_15_characters_passes(sender: str) -> None:
    assert validate_sender(sender) is None


def test_an_alphanumeric_sender_over_11_characters_is_refused() -> None:
    assert validate_sender("ABCDEFGHIJKL") == (
        "an alphanumeric sender id is at most 11 characters (12); "
        "only a numeric one may have up to 15"
    )


def test_a_sender_over_15_characters_is_refused() -> None:
    assert validate_sender("1234567890123456") == (
        "the sender id is longer than 15 characters (16)"
    )


@pytest.mark.parametrize("sender", ["Cloud!", "云短信", " Cloud", "Cloud "])
def test_a_sender_with_other_characters_is_refused(sender: str) -> None:
    reason = validate_sender(sender)

    assert reason is not None and reason.startswith("the sender id may hold only")


@pytest.mark.parametrize("name", ["\u200b", "\ufeff \u3164"])
def test_a_template_or_package_name_that_shows_nothing_is_empty(name: str) -> None:
    from cloudsms.validation import one_line_name

    with pytest.raises(ValueError, match="the template name is empty"):
        one_line_name("template name")(name)
