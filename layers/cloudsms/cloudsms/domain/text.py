"""SMS encoding and segments: what a message costs, since billing and quotas count segments.

A message is GSM-7 when every character is in the GSM 03.38 alphabet (extension characters
take two septets); a single other character makes the whole message UCS-2 (UTF-16 code
units, so an emoji takes two). A message that does not fit one SMS is sent as concatenated
parts whose header leaves 153 septets or 67 code units each.

The gateway splits the message, so the parts are counted as it cuts them: Kannel moves an
extension character whole to the next part, but Kannel and Jasmin both cut UCS-2 at exactly
67 code units, even between the two halves of an emoji. Counting otherwise would charge a
part that is never sent, and a channel that counts delivered parts would wait for it.
"""

from dataclasses import dataclass
from typing import Literal

GSM7 = "GSM-7"
UCS2 = "UCS-2"
# A message's encoding, as the API shows it: GSM7 or UCS2.
Encoding = Literal["GSM-7", "UCS-2"]
# Units in a single SMS, and in each part of a concatenated one (the rest is its header).
GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67

# GSM 03.38 basic character set, without the escape code (0x1B) that introduces the
# extension table: it is an encoding artefact, never a character a user writes.
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Reached through the escape code, so each costs two septets.
_GSM_EXTENSION = frozenset("^{}\\[~]|€\f")
_GSM = _GSM_BASIC | _GSM_EXTENSION

# Parts are cut in the form the gateway sends: an extension character as the escape code
# then the character (never split), UCS-2 as UTF-16 (cut anywhere).
_ESC = "\x1b"
_UTF16 = "utf-16-be"


@dataclass(frozen=True)
class TextInfo:
    encoding: str  # GSM7 or UCS2
    length: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int
    ucs2_reason: str | None  # why the message is UCS-2, for the person writing it


def analyse(text: str) -> TextInfo:
    if not text:
        return TextInfo(GSM7, 0, 0, None)
    if _GSM.issuperset(text):
        septets = _septets(text)
        return TextInfo(GSM7, len(septets), len(_cut_septets(septets)), None)
    utf16 = text.encode(_UTF16)
    return TextInfo(UCS2, len(utf16) // 2, len(_cut_utf16(utf16)), _ucs2_reason(text))


def split_parts(text: str) -> list[str]:
    """The parts a gateway sends, one per segment, without the concatenation headers.
    An emoji cut between two UCS-2 parts ends one part and starts the next as half of its
    surrogate pair."""
    if not text:
        return []
    if _GSM.issuperset(text):
        return [part.replace(_ESC, "") for part in _cut_septets(_septets(text))]
    return [part.decode(_UTF16, "surrogatepass") for part in _cut_utf16(text.encode(_UTF16))]


def _septets(text: str) -> str:
    # Ten str.replace calls beat one str.translate by far once the text is not ASCII.
    for ch in _GSM_EXTENSION:
        if ch in text:
            text = text.replace(ch, _ESC + ch)
    return text


def _cut_septets(septets: str) -> list[str]:
    if len(septets) <= GSM7_SINGLE:
        return [septets]
    parts = []
    while len(septets) > GSM7_PART:
        end = GSM7_PART - 1 if septets[GSM7_PART - 1] == _ESC else GSM7_PART
        parts.append(septets[:end])
        septets = septets[end:]
    parts.append(septets)
    return parts


def _cut_utf16(utf16: bytes) -> list[bytes]:
    if len(utf16) <= 2 * UCS2_SINGLE:
        return [utf16]
    size = 2 * UCS2_PART
    return [utf16[start : start + size] for start in range(0, len(utf16), size)]


def _ucs2_reason(text: str) -> str:
    # Position counted from 1: the reason is read by the person who wrote the text.
    position, ch = next((i, ch) for i, ch in enumerate(text, start=1) if ch not in _GSM)
    return f"{ch!r} (U+{ord(ch):04X}) at position {position} is not in the GSM-7 alphabet"
