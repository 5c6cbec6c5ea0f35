import pytest

from cloudsms.domain.phone import (
    Direction,
    InvalidNumber,
    country_code,
    mask,
    mask_numbers_in,
    normalise,
    normalise_listed,
    not_allowed,
    readings,
    region,
    time_zones,
)

PH = "+639215347566"


@pytest.mark.parametrize(
    "raw",
    [
        "+639215347566",
        "00639215347566",
        "639215347566",
        " +63 921-534-7566 ",
        "+63 (921) 534.7566",
        639215347566,
        639215347566.0,
        "639215347566.0",
        "6.39215347566E+11",
        "＋６３９２１５３４７５６６",
        "\u202d+63 921 534 7566\u202c",  # as an iPhone's contacts copy it
        "639215347566\u200b",
        "\ufeff639215347566",
        "(+63) 921 534 7566",
        "(+63)9215347566",
        "（＋６３）９２１－５３４－７５６６",  # a Chinese keyboard in full-width mode
        "+63\u3000921\u3000534\u30007566",
        "+63 921\u2013534\u20137566",  # dashes a word processor puts in
        "+63\u2011921\u2011534\u20117566",
        "+63 921\u2212534\u22127566",
    ],
)
def test_number_forms_normalise_to_e164(raw):
    assert normalise(raw) == PH


def test_mainland_china_mission_accepts_a_national_mobile_number():
    assert normalise("13800138000", Direction.MAINLAND_CHINA) == "+8613800138000"


def test_mainland_china_mission_reads_86_without_plus_as_country_code():
    assert normalise("8613800138000", Direction.MAINLAND_CHINA) == "+8613800138000"


@pytest.mark.parametrize("raw", ["+86 138 0013 8000", "008613800138000", 8613800138000])
def test_mainland_china_mission_accepts_an_international_form(raw):
    assert normalise(raw, Direction.MAINLAND_CHINA) == "+8613800138000"


def test_mainland_china_mission_calls_a_malformed_number_invalid():
    with pytest.raises(InvalidNumber, match="not a valid phone number"):
        normalise("1380013", Direction.MAINLAND_CHINA)


def test_mainland_china_mission_refuses_a_foreign_number():
    with pytest.raises(InvalidNumber, match="Mainland China missions accept only"):
        normalise(PH, Direction.MAINLAND_CHINA)


def test_mainland_china_mission_refuses_a_foreign_number_written_without_plus():
    with pytest.raises(InvalidNumber, match="Mainland China missions accept only"):
        normalise("639215347566", Direction.MAINLAND_CHINA)


def test_mainland_china_mission_refuses_a_fixed_line():
    with pytest.raises(InvalidNumber, match="Mainland China missions accept only"):
        normalise("+861012345678", Direction.MAINLAND_CHINA)


def test_international_mission_refuses_a_chinese_number():
    with pytest.raises(InvalidNumber) as caught:
        normalise("+8613800138000", Direction.INTERNATIONAL)

    assert caught.value.reason == "international missions cannot send to +86 numbers"
    assert str(caught.value) == caught.value.reason


@pytest.mark.parametrize("raw", ["15512345678", "17185551234", 18623456789.0])
def test_international_mission_refuses_a_chinese_mobile_without_86_as_ambiguous(raw):
    # Read with its country code each is a valid +1 number: a stranger's.
    with pytest.raises(InvalidNumber) as caught:
        normalise(raw, Direction.INTERNATIONAL)

    assert caught.value.reason.startswith("ambiguous: a Mainland China mobile without +86, or +1")
    assert caught.value.reason.endswith(": write the country code with +")


@pytest.mark.parametrize("raw", ["+15512345678", "0015512345678"])
def test_international_mission_accepts_the_same_digits_with_the_country_code(raw):
    assert normalise(raw, Direction.INTERNATIONAL) == "+15512345678"


def test_mainland_china_mission_reads_a_national_mobile_that_is_also_a_plus_1_number():
    assert normalise("15512345678", Direction.MAINLAND_CHINA) == "+8615512345678"


def test_international_mission_accepts_hong_kong():
    assert normalise("+85291234567", Direction.INTERNATIONAL) == "+85291234567"


def test_no_direction_accepts_any_valid_number():
    assert normalise("+8613800138000") == "+8613800138000"
    assert normalise(PH) == PH


@pytest.mark.parametrize("raw", ["", "   ", float("nan")])
def test_empty_cell_is_invalid_as_empty(raw):
    with pytest.raises(InvalidNumber, match="^empty$"):
        normalise(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "+6392153",
        "+63921534756612345",
        "hello",
        "+63 921 CALL ME",
        6392153.5,
        "6.3921534756E+99",
        "1E+999999999",
        True,
    ],
)
def test_invalid_numbers_are_refused(raw):
    with pytest.raises(InvalidNumber, match="not a valid phone number"):
        normalise(raw)


def test_national_number_without_country_code_is_refused_outside_china():
    with pytest.raises(InvalidNumber, match="without a country code"):
        normalise("09215347566", Direction.INTERNATIONAL)


def test_invalid_number_is_a_value_error():
    assert issubclass(InvalidNumber, ValueError)


def test_mask_keeps_first_and_last_three_national_digits():
    assert mask(PH) == "921****566"


def test_mask_hides_at_least_three_digits_of_a_short_number():
    # Iceland's national numbers have 7 digits
    assert mask("+3544211234") == "42***34"


def test_country_code_is_read_from_e164():
    assert country_code(PH) == 63
    assert country_code("+12015550123") == 1
    assert country_code("+85291234567") == 852


def test_country_code_of_a_non_e164_string_is_invalid():
    with pytest.raises(InvalidNumber):
        country_code("639215347566")


def test_numbers_in_free_text_are_masked():
    text = "submit to +639215347566 failed, retry 639215347566"

    assert mask_numbers_in(text) == "submit to +63921****566 failed, retry 63921****566"


def test_short_digit_runs_in_free_text_are_left_alone():
    assert mask_numbers_in("mission 123456 has 3 parts") == "mission 123456 has 3 parts"


def test_a_seven_digit_run_keeps_three_digits_hidden():
    assert mask_numbers_in("1234567") == "1***567"


def test_time_zones_of_a_number():
    assert time_zones(PH) == ["Asia/Manila"]


def test_non_geographic_number_has_no_time_zones():
    assert time_zones("+80012345678") == []


def test_a_listed_number_that_reads_two_ways_is_refused_rather_than_listing_a_stranger():
    # 15512345678 is a Mainland China mobile without +86, and +1 551-234-5678 read with
    # its country code: a blacklist must not list the one for the other.
    with pytest.raises(InvalidNumber, match="ambiguous: a Mainland China mobile"):
        normalise_listed("15512345678")

    assert normalise_listed("+15512345678") == "+15512345678"
    assert normalise_listed("13800138000") == "+8613800138000"  # only Chinese


@pytest.mark.parametrize(
    ("raw", "numbers"),
    [
        ("+639215347566", ["+639215347566"]),
        ("639215347566", ["+639215347566"]),
        ("13800138000", ["+8613800138000"]),
        ("8613800138000", ["+8613800138000"]),
        # A Mainland China mobile in national form that is also a valid +1 number.
        ("15512345678", ["+15512345678", "+8615512345678"]),
        ("+15512345678", ["+15512345678"]),
    ],
)
def test_a_gateways_sender_is_each_number_it_may_be(raw, numbers):
    assert readings(raw) == numbers


@pytest.mark.parametrize(
    ("e164", "code"),
    [
        (PH, "PH"),
        ("+8613800138000", "CN"),
        # +1 is shared: the US's, Canada's and the Caribbean's, told apart by the number.
        ("+12015550123", "US"),
        ("+15062345678", "CA"),
        ("+18762101234", "JM"),
        ("+447400123456", "GB"),
        ("+8823421234", "001"),  # an international network: no country's
    ],
)
def test_a_numbers_region_is_its_countrys_iso_code(e164, code):
    assert region(e164) == code


def test_a_number_in_a_country_not_allowed_names_the_country():
    assert not_allowed("+18762101234", {"US", "PH"}) == "country JM is not allowed for this tenant"
    assert not_allowed("+12015550123", {"US", "PH"}) is None


def test_an_international_networks_number_is_not_allowed_when_countries_are_set():
    assert not_allowed("+8823421234", {"PH"}) == (
        "+882 is an international network, not allowed for this tenant"
    )


@pytest.mark.parametrize("countries", [None, set()])
def test_no_countries_set_allows_every_country(countries):
    assert not_allowed("+8823421234", countries) is None
    assert not_allowed("+18762101234", countries) is None
