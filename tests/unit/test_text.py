from cloudsms.domain.text import TextInfo, analyse, split_parts


def test_empty_text_has_no_segments():
    assert analyse("") == TextInfo("GSM-7", 0, 0, None)
    assert split_parts("") == []


def test_160_gsm_characters_fit_one_segment():
    info = analyse("a" * 160)

    assert (info.encoding, info.length, info.segments) == ("GSM-7", 160, 1)


def test_161_gsm_characters_take_two_segments():
    assert analyse("a" * 161).segments == 2


def test_a_gsm_part_holds_153_characters():
    assert analyse("a" * 306).segments == 2
    assert analyse("a" * 307).segments == 3


def test_gsm_basic_accents_and_greek_stay_gsm():
    info = analyse("Ça marche 5€? Ünd ΔΩ ¿é?")

    assert info.encoding == "GSM-7"


def test_extension_characters_count_two_septets():
    info = analyse("{[~]}")

    assert (info.encoding, info.length) == ("GSM-7", 10)


def test_80_euro_signs_fill_one_segment():
    info = analyse("€" * 80)

    assert (info.length, info.segments) == (160, 1)


def test_81_euro_signs_take_two_segments():
    info = analyse("€" * 81)

    assert (info.length, info.segments) == (162, 2)


def test_extension_character_is_not_split_across_parts():
    # Given 152 septets then a '€' that would need septets 153 and 154 of the first part
    text = "a" * 152 + "€" + "a" * 152

    # When
    info = analyse(text)
    parts = split_parts(text)

    # Then the '€' moves whole to the second part, which now needs a third for its overflow
    assert info.length == 306
    assert info.segments == 3
    assert parts == ["a" * 152, "€" + "a" * 151, "a"]


def test_one_chinese_character_makes_the_message_ucs2_and_says_why():
    info = analyse("Hi 你")

    assert info.encoding == "UCS-2"
    assert info.length == 4
    assert info.ucs2_reason == "'你' (U+4F60) at position 4 is not in the GSM-7 alphabet"


def test_gsm_message_has_no_ucs2_reason():
    assert analyse("Hello").ucs2_reason is None


def test_70_ucs2_units_fit_one_segment():
    assert analyse("你" * 70).segments == 1


def test_71_ucs2_units_take_two_segments():
    assert analyse("你" * 71).segments == 2


def test_a_ucs2_part_holds_67_units():
    assert analyse("你" * 134).segments == 2
    assert analyse("你" * 135).segments == 3
    assert [len(part) for part in split_parts("你" * 135)] == [67, 67, 1]


def test_emoji_counts_two_ucs2_units():
    info = analyse("😀" * 35)

    assert (info.encoding, info.length, info.segments) == ("UCS-2", 70, 1)


def test_ucs2_parts_are_cut_at_67_units_even_through_an_emoji():
    # Given 66 units, an emoji on units 67 and 68, then 66 units: 134 units in all
    text = "你" * 66 + "😀" + "你" * 66

    parts = split_parts(text)

    # Then two parts of 67 units, as Kannel and Jasmin cut them (tests/e2e/test_kannel_real.py),
    # not three with the emoji moved whole to the second
    assert analyse(text).segments == 2
    assert parts == ["你" * 66 + "\ud83d", "\ude00" + "你" * 66]


def test_single_segment_is_one_part():
    assert split_parts("Hello") == ["Hello"]


def test_parts_join_back_to_the_text():
    text = "Your code is 1234. " * 20

    assert "".join(split_parts(text)) == text
    assert len(split_parts(text)) == analyse(text).segments
