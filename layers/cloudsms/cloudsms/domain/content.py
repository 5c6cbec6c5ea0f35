"""SMS content: its `${Var}` variables, its limits, and the text each recipient receives.

A variable is `${Name}`: a name of letters (any script, so `${姓名}` works), digits and
underscores. Spaces inside the braces are tolerated (`${ Name }` is `${Name}`) because
people type them and mean the same variable. Any other `${` is a mistake that
`validate_content` reports instead of sending it literally.

The text a recipient receives is the content with the values filled in, the user
unsubscribe sentence after it when allowed, and the signature in brackets at the start or
the end: `【Sig】` with no space for Mainland China (the carriers' convention), `[Sig]` with
a space elsewhere.
"""

import re
import unicodedata
from collections.abc import Callable, Mapping
from enum import StrEnum

from cloudsms.domain.phone import Direction

MISSION_NAME_MAX = 30
CONTENT_MAX = 1500  # characters, as the portal's counter shows them
SIGNATURE_MAX = 20
SENDER_MAX = 15  # a numeric sender id (a phone number or short code)
SENDER_ALPHANUMERIC_MAX = 11  # what the GSM address field holds for letters

UNSUBSCRIBE_TEXT = {
    Direction.MAINLAND_CHINA: "回T退订",
    Direction.INTERNATIONAL: "Reply TD to unsubscribe",
}
# What a reply to a message with the sentence above may say to unsubscribe (matched
# without case, spaces or surrounding punctuation): the words the sentences ask for, and
# the ones people type anyway (退訂 is 退订 as Taiwan's and Hong Kong's keyboards write it).
UNSUBSCRIBE_KEYWORDS = ("TD", "T", "退订", "退訂", "STOP", "UNSUBSCRIBE")

_VARIABLE = re.compile(r"\$\{\s*(\w+)\s*\}")
# Everything that starts like a variable, up to its closing brace if it has one.
_VARIABLE_LIKE = re.compile(r"\$\{[^}\n]*\}?")
_BRACKETS = "[]【】"
# Control characters (C0, DEL, C1) but tab, line feed and carriage return: no phone
# shows them, and a gateway may cut a text short at a NUL.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# What breaks a name over lines, or hides in it: every control character, and the
# Unicode line and paragraph separators.
_NOT_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NUMERIC_SENDER = re.compile(r"\+?[0-9]+")
# Carriers differ in what an alphanumeric sender id may hold; this is the set all accept.
_ALPHANUMERIC_SENDER = re.compile(r"[A-Za-z0-9][A-Za-z0-9 .&_-]*")


class SignaturePosition(StrEnum):
    START = "start"
    END = "end"


class MissingValue(ValueError):
    """A variable of the content has no value to fill in."""


def variables(content: str) -> list[str]:
    """The variable names in order of first appearance, each once."""
    return list(dict.fromkeys(_VARIABLE.findall(content)))


def renderer(
    content: str,
    signature: str | None,
    signature_position: str,
    direction: Direction,
    allow_unsubscribe: bool,
) -> Callable[[Mapping[str, str]], str]:
    """A function that renders `content` for one recipient's values.

    Everything but the values is worked out once, so rendering a 100,000-row number list
    costs one `str.format` a row.
    """
    names = variables(content)
    index = {name: str(i) for i, name in enumerate(names)}
    pieces = _VARIABLE.split(content)  # literal, name, literal, name, ..., literal
    body = "".join(
        _escape(piece) if i % 2 == 0 else "{" + index[piece] + "}" for i, piece in enumerate(pieces)
    )
    if allow_unsubscribe:
        body = body.rstrip() + " " + _escape(UNSUBSCRIBE_TEXT[direction])
    position = SignaturePosition(signature_position)  # ValueError for anything else
    template = _sign(body, _escape(_bare_signature(signature)), position, direction)

    def render_values(values: Mapping[str, str]) -> str:
        try:
            return template.format(*[values[name] for name in names])
        except KeyError as missing:
            raise MissingValue(f"no value for variable '{missing.args[0]}'") from None

    return render_values


def added_length(
    content: str,
    signature: str | None,
    signature_position: str,
    direction: Direction,
    allow_unsubscribe: bool,
) -> int:
    """How many characters the signature and the unsubscribe sentence add to the content:
    they come on top of its CONTENT_MAX, as the portal's counter counts the content alone."""
    blank = {name: "" for name in variables(content)}
    signed = renderer(content, signature, signature_position, direction, allow_unsubscribe)
    bare = renderer(content, None, signature_position, direction, False)
    return len(signed(blank)) - len(bare(blank))


def render(
    content: str,
    values: Mapping[str, str],
    signature: str | None,
    signature_position: str,
    direction: Direction,
    allow_unsubscribe: bool,
) -> str:
    """The text one recipient receives."""
    render_values = renderer(content, signature, signature_position, direction, allow_unsubscribe)
    return render_values(values)


def validate_content(content: str) -> str | None:
    """Why the content cannot be used, or None."""
    if shows_nothing(content):
        return "the content is empty"
    if len(content) > CONTENT_MAX:
        return f"the content is longer than {CONTENT_MAX} characters ({len(content):,})"
    hidden = unshowable(content)
    if hidden:
        return f"the content holds {hidden}, which a phone cannot show: remove it"
    for written in _VARIABLE_LIKE.findall(content):
        if not _VARIABLE.fullmatch(written):
            return (
                f"'{written[:30]}' is not a variable: write ${{Name}} with letters, digits "
                "or underscores"
            )
    seen: dict[str, str] = {}
    for name in variables(content):
        # Number list columns are matched by name ignoring case, so these would collide.
        other = seen.setdefault(name.casefold(), name)
        if other != name:
            return f"the variables '{other}' and '{name}' differ only in case"
    return None


# Letters and marks that are drawn as nothing: the Hangul fillers, the combining grapheme
# joiner, the braille blank and the variation selectors.
_BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u034f\u2800") | frozenset(
    chr(c) for c in [*range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)]
)


def shows_nothing(text: str) -> bool:
    """Whether `text` holds nothing a phone (or a person) would see: spaces, format
    characters (Unicode's Cf: zero-width spaces and joiners, the word joiner, the byte
    order mark) and the few letters and marks drawn as blanks. A text of only these is as
    empty as "", and would be sent and charged all the same."""
    return all(c.isspace() or c in _BLANK_LOOKING or unicodedata.category(c) == "Cf" for c in text)


def validate_mission_name(name: str) -> str | None:
    if shows_nothing(name):
        return "the mission name is empty"
    if len(name) > MISSION_NAME_MAX:
        return f"the mission name is longer than {MISSION_NAME_MAX} characters ({len(name)})"
    return not_one_line(name, "mission name")


def not_one_line(name: str, what: str) -> str | None:
    """Why `name` is not one line of printable characters, or None."""
    breaking = _NOT_ONE_LINE.search(name)
    if breaking:
        return (
            f"the {what} holds {_described(breaking.group())}: a name is one line "
            "of printable characters"
        )
    return None


def validate_signature(signature: str | None) -> str | None:
    """Why the signature cannot be used, or None. No signature is fine."""
    bare = _bare_signature(signature)
    if any(bracket in bare for bracket in _BRACKETS):
        return "the signature cannot contain brackets: they are added around it"
    if any(not ch.isprintable() for ch in bare):
        return "the signature must be a single line of printable characters"
    if len(bare) > SIGNATURE_MAX:
        return f"the signature is longer than {SIGNATURE_MAX} characters ({len(bare)})"
    return None


def validate_sender(sender: str | None) -> str | None:
    """Why the sender id (OA) cannot be used, or None. No sender id is fine."""
    if not sender:
        return None
    if len(sender) > SENDER_MAX:
        return f"the sender id is longer than {SENDER_MAX} characters ({len(sender)})"
    if _NUMERIC_SENDER.fullmatch(sender):
        return None
    if not _ALPHANUMERIC_SENDER.fullmatch(sender) or sender.endswith(" "):
        return (
            "the sender id may hold only the letters A-Z, digits, spaces and . & _ -, "
            "and cannot start or end with a space"
        )
    if len(sender) > SENDER_ALPHANUMERIC_MAX:
        return (
            f"an alphanumeric sender id is at most {SENDER_ALPHANUMERIC_MAX} characters "
            f"({len(sender)}); only a numeric one may have up to {SENDER_MAX}"
        )
    return None


def unshowable(text: str) -> str | None:
    """The first control character in `text` that a phone cannot show, described; None
    when it has none."""
    found = _CONTROL.search(text)
    return _described(found.group()) if found else None


def _described(character: str) -> str:
    """A character nobody sees, named so that its writer can find it."""
    if character in "\n\r\u2028\u2029":
        return "a line break"
    if character == "\t":
        return "a tab"
    return f"the control character U+{ord(character):04X}"


def _bare_signature(signature: str | None) -> str:
    """The signature without the brackets people often type around it themselves."""
    bare = (signature or "").strip()
    if len(bare) >= 2 and bare[0] in "[【" and bare[-1] in "]】":
        bare = bare[1:-1].strip()
    return bare


def _sign(body: str, signature: str, position: SignaturePosition, direction: Direction) -> str:
    if not signature:
        return body
    if direction == Direction.MAINLAND_CHINA:
        signed, space = f"【{signature}】", ""
    else:
        signed, space = f"[{signature}]", " "
    if position is SignaturePosition.END:
        return body + space + signed
    return signed + space + body


def _escape(text: str) -> str:
    """`text` as a literal part of a `str.format` template."""
    return text.replace("{", "{{").replace("}", "}}")
