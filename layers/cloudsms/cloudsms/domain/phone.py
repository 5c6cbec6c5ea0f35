"""Phone numbers: reading what people and spreadsheets write, and keeping numbers out of logs.

Numbers are stored and sent in E.164 ("+639215347566"). Number lists come from Excel, so a
number may arrive as an int, a float, scientific notation or with its leading "00" or "+"
lost; a number without "+" is read as starting with its country code, except that a
Mainland China mission also takes national numbers, and that an international mission
refuses one that is also a Mainland China mobile in national form.
"""

import re
import unicodedata
from collections.abc import Collection
from decimal import Decimal, InvalidOperation
from enum import StrEnum

import phonenumbers
from phonenumbers import PhoneNumber, PhoneNumberType
from phonenumbers import timezone as phone_timezone

CHINA = 86
# E.164: a number has at most 15 digits, its country code included.
MAX_DIGITS = 15
_CN_MOBILE = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})

NOT_VALID = "not a valid phone number"
EMPTY = "empty"
NO_COUNTRY_CODE = "national number without a country code"
ONLY_CHINA_MOBILE = "Mainland China missions accept only +86 mobile numbers"
NO_CHINA = "international missions cannot send to +86 numbers"
# The end of the reason a number in a country the tenant may not send to has.
NOT_ALLOWED = "not allowed for this tenant"
# The region of a number of an international network (+800, +882, ...): no country's.
NON_GEOGRAPHIC = "001"


class Direction(StrEnum):
    MAINLAND_CHINA = "mainland_china"
    INTERNATIONAL = "international"


class InvalidNumber(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# The dashes word processors put in (en dash, non-breaking hyphen, minus sign) with the
# ASCII ones.
_SEPARATORS = str.maketrans("", "", " \t\u00a0-.()/\u2010\u2011\u2012\u2013\u2014\u2015\u2212")
# A Chinese keyboard in full-width mode types every character of "（＋８６）１３８－…"
# in its full-width form: read them as their ASCII twins, the ideographic space as a space.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
# How Excel writes a number cell into text: "639215347566.0" or "6.39215347566E+11". The
# exponent is capped so that a hostile "1E+999999999" cannot expand into a billion digits.
_EXCEL_NUMBER = re.compile(r"\d+\.0+|\d(\.\d+)?[eE]\+?\d{1,2}")
# Not inside a word: a message UID like 01A2166209CAC64C9E… is not a phone number.
_DIGIT_RUN = re.compile(r"(?<![0-9A-Za-z])\+?\d{7,}(?![0-9A-Za-z])")


def normalise(raw: str | int | float, direction: Direction | None = None) -> str:
    """The number in E.164, or InvalidNumber saying why it cannot be sent to.

    `direction` None applies no direction rule (the one-off Web API).
    """
    plus, digits = written_digits(raw)
    if direction is Direction.MAINLAND_CHINA:
        number = _chinese_mobile(plus, digits)
    else:
        number = _international(plus, digits)
        if not phonenumbers.is_valid_number(number):
            raise InvalidNumber(NOT_VALID)
        if direction is Direction.INTERNATIONAL:
            if number.country_code == CHINA:
                raise InvalidNumber(NO_CHINA)
            # Read with its country code, 15512345678 is +1 551-234-5678, but it is also
            # how people in China write a mobile: sent, it would reach a stranger.
            if not plus and _national_chinese_mobile(digits):
                e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
                raise InvalidNumber(_ambiguous(e164))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _ambiguous(e164: str) -> str:
    return (
        f"ambiguous: a Mainland China mobile without +86, or {e164}: write the country code with +"
    )


def normalise_any(raw: str | int | float) -> str:
    """A number from either direction's lists: international with its country code, or a
    Mainland China mobile in national form (as a Mainland China mission takes it). For
    the blacklist, which guards every direction."""
    try:
        return normalise(raw)
    except InvalidNumber as international:
        try:
            return normalise(raw, Direction.MAINLAND_CHINA)
        except InvalidNumber:
            raise international from None


def readings(raw: str | int | float) -> list[str]:
    """Every number a gateway's sender may be, best first: normalise_any's reading, and,
    when the digits were written without "+" and are also a Mainland China mobile in
    national form, that mobile. A Chinese SMSC may give "15512345678" for +86 155 1234
    5678, which normalise_any reads as +1 551-234-5678."""
    e164 = normalise_any(raw)
    plus, digits = written_digits(raw)
    if not plus and not e164.startswith(f"+{CHINA}") and _national_chinese_mobile(digits):
        return [e164, normalise(digits, Direction.MAINLAND_CHINA)]
    return [e164]


def normalise_listed(raw: str | int | float) -> str:
    """A number a tenant or the operator puts on (or takes off) a blacklist: as
    normalise_any, except that one written without "+" that reads both as a Mainland China
    mobile and as another country's number is refused, as in an international mission,
    rather than listing a stranger's number in place of the one meant."""
    e164 = normalise_any(raw)
    plus, digits = written_digits(raw)
    if not plus and not e164.startswith(f"+{CHINA}") and _national_chinese_mobile(digits):
        raise InvalidNumber(_ambiguous(e164))
    return e164


def country_code(e164: str) -> int:
    return _split(e164)[0]


def region(e164: str) -> str:
    """The number's ISO 3166-1 alpha-2 region code ("PH"), or NON_GEOGRAPHIC."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE[country_code(e164)]
    if len(regions) == 1:
        return regions[0]  # most country codes: no parse, for a list of 100,000 rows
    # A code several countries share (+1: the US, Canada and the Caribbean's, whose
    # premium ranges are what SMS pumping buys): the number decides.
    return phonenumbers.region_code_for_number(_parse(e164)) or phonenumbers.UNKNOWN_REGION


def not_allowed(e164: str, countries: Collection[str] | None) -> str | None:
    """Why a tenant that may send only to `countries` (region codes; none: every country)
    may not send to the number, or None when it may."""
    if not countries:
        return None
    where = region(e164)
    if where in countries:
        return None
    if where == NON_GEOGRAPHIC:
        return f"+{country_code(e164)} is an international network, {NOT_ALLOWED}"
    return f"country {where} is {NOT_ALLOWED}"


def mask(e164: str) -> str:
    """The dispatching log's form of a number: the national number, its middle starred."""
    national = _split(e164)[1]
    keep = max(0, min(3, (len(national) - 3) // 2))  # at least three digits stay hidden
    hidden = len(national) - 2 * keep
    return national[:keep] + "*" * hidden + national[len(national) - keep :]


def mask_numbers_in(text: str) -> str:
    """`text` with every run of 7+ digits starred, so numbers never reach the logs.

    Other long digit runs (epoch milliseconds, ids) are starred too: a log line losing a
    few digits of an id costs less than a phone number leaking.
    """
    return _DIGIT_RUN.sub(_mask_run, text)


def time_zones(e164: str) -> list[str]:
    """IANA time zones of the number's region; empty when its region has none."""
    zones = phone_timezone.time_zones_for_number(_parse(e164))
    return [zone for zone in zones if zone != phone_timezone.UNKNOWN_TIMEZONE]


def written_digits(raw: str | int | float) -> tuple[bool, str]:
    """Whether the number was written with "+", and its digits (spaces, dashes, dots,
    parentheses and slashes dropped), or InvalidNumber."""
    if isinstance(raw, bool):
        raise InvalidNumber(NOT_VALID)
    if isinstance(raw, float):
        if raw != raw:  # NaN: how dataframes and some readers spell an empty cell
            raise InvalidNumber(EMPTY)
        if not raw.is_integer() or raw < 0:
            raise InvalidNumber(NOT_VALID)
        raw = int(raw)
    text = str(raw)
    if not text.isascii():  # most are: a list of 100,000 numbers skips this
        # A number copied from a phone's contacts or a web page carries marks no one sees:
        # an iPhone wraps it in direction marks (U+202D ... U+202C), pages add zero-width
        # spaces.
        text = "".join(char for char in text if unicodedata.category(char) != "Cf")
        text = text.translate(_FULL_WIDTH)
    text = text.strip()
    if not text:
        raise InvalidNumber(EMPTY)
    # "(+86) 138 0013 8000": the country code in parentheses, as business cards write it.
    if text.startswith("(+"):
        text = text[1:]

    if _EXCEL_NUMBER.fullmatch(text):
        text = _excel_number(text)
    plus = text.startswith("+")
    digits = text[1:] if plus else text
    digits = digits.translate(_SEPARATORS)
    if not digits.isdecimal():
        raise InvalidNumber(NOT_VALID)
    if not digits.isascii():
        digits = phonenumbers.normalize_digits_only(digits)  # e.g. full-width digits
    return plus, digits


def _excel_number(text: str) -> str:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InvalidNumber(NOT_VALID) from None
    if value != value.to_integral_value():
        raise InvalidNumber(NOT_VALID)
    if value.adjusted() >= MAX_DIGITS:
        # More digits than a number has: and past 4,300 digits str() refuses to write
        # the int at all (a ValueError, a 500), where a cell "1111…1.0" is only invalid.
        raise InvalidNumber(NOT_VALID)
    return str(int(value))


def _parse(text: str, region: str | None = None) -> PhoneNumber:
    try:
        return phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidNumber(NOT_VALID) from None


def _international(plus: bool, digits: str) -> PhoneNumber:
    if plus:
        return _parse("+" + digits)
    if digits.startswith("00"):
        return _parse("+" + digits[2:])
    if digits.startswith("0"):
        raise InvalidNumber(NO_COUNTRY_CODE)
    return _parse("+" + digits)


def _chinese_mobile(plus: bool, digits: str) -> PhoneNumber:
    """A Mainland China mission's number, which may also be written as a national number."""
    national = not plus and not digits.startswith("00")
    number = _parse(digits, "CN") if national else _international(plus, digits)
    # number_type names a type only for a number valid in its region: one check, not two.
    if number.country_code == CHINA and phonenumbers.number_type(number) in _CN_MOBILE:
        return number
    valid = phonenumbers.is_valid_number(number)
    if national and not valid:
        # A foreign number written without "+" is better told it is foreign than invalid.
        valid = _is_valid_international(digits)
    raise InvalidNumber(ONLY_CHINA_MOBILE if valid else NOT_VALID)


def _national_chinese_mobile(digits: str) -> bool:
    """Whether the digits are a Mainland China mobile in national form: 1[3-9] and 9 more."""
    if len(digits) != 11 or digits[0] != "1" or digits[1] < "3":
        return False
    return phonenumbers.number_type(phonenumbers.parse(digits, "CN")) in _CN_MOBILE


def _is_valid_international(digits: str) -> bool:
    try:
        return phonenumbers.is_valid_number(_international(False, digits))
    except InvalidNumber:
        return False


def _split(e164: str) -> tuple[int, str]:
    """Country code and national significant number, read from the E.164 digits alone.

    Country codes are prefix-free, so the first 1-3 digits that name one are it; this
    avoids a full parse for every row of a dispatching log.
    """
    digits = e164[1:]
    if e164.startswith("+") and digits.isdigit() and digits.isascii():
        for size in (1, 2, 3):
            code = int(digits[:size])
            if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                return code, digits[size:]
    raise InvalidNumber(NOT_VALID)


def _mask_run(match: re.Match[str]) -> str:
    run = match.group()
    plus = "+" if run.startswith("+") else ""
    digits = run[len(plus) :]
    head = min(5, len(digits) - 6)  # keep the last 3 and at least 3 hidden
    return plus + digits[:head] + "*" * (len(digits) - head - 3) + digits[-3:]
