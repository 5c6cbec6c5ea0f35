"""Replies from recipients (mobile originated, MO), as SMS gateways hand them over, and
whether one asks to unsubscribe.

A gateway gives the text in the coding the handset used: UCS-2 (UTF-16BE) for Chinese
and other non-GSM text, which reaches us as percent-encoded bytes that are not UTF-8.
So the fields are read as bytes and the text decoded as the gateway says it is coded:
Kannel names a charset (`%C`) and a coding (`%c`), Jasmin an SMPP data coding (`coding`)
and the bytes again as hex (`binary`).
"""

import binascii
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from cloudsms.domain.content import UNSUBSCRIBE_KEYWORDS

_KEYWORDS = {keyword.casefold(): keyword for keyword in UNSUBSCRIBE_KEYWORDS}
# Punctuation, symbols and spaces around the word: "TD.", "退订！", "'stop'".
_EDGES = re.compile(r"^[\W_]+|[\W_]+$")
# Kannel's coding 2 and SMPP's data coding 8 are UCS-2, which Python reads as UTF-16BE.
_UCS2 = "utf-16-be"
_KANNEL_CHARSETS = {"UCS-2": _UCS2, "UCS2": _UCS2, "UTF-16BE": _UCS2}
_SMPP_CODINGS = {"8": _UCS2, "3": "latin-1"}


@dataclass(frozen=True)
class Reply:
    sender: str  # the replying number as the gateway wrote it (not yet E.164)
    text: str


def unsubscribe_keyword(text: str) -> str | None:
    """The unsubscribe keyword a reply is, whatever its case, width (full-width "ＴＤ"
    from a Chinese keyboard) or surrounding punctuation; None when it is anything else."""
    word = _EDGES.sub("", unicodedata.normalize("NFKC", text).strip())
    return _KEYWORDS.get(word.casefold())


def reply_from_kannel(fields: Mapping[str, bytes]) -> Reply:
    """Kannel's sms-service get-url: `from=%p&text=%a&charset=%C&coding=%c`."""
    charset = _text(fields.get("charset", b"")).upper()
    if not charset and _text(fields.get("coding", b"")) == "2":
        charset = "UCS-2"
    encoding = _KANNEL_CHARSETS.get(charset, charset)
    return Reply(_sender(fields), _decoded(fields.get("text", b""), encoding))


def reply_from_jasmin(fields: Mapping[str, bytes]) -> Reply:
    """Jasmin's HTTP client connector: `from`, `content`, `coding`, and `binary` (the
    content's bytes in hex, which survive any form encoding)."""
    raw = fields.get("content", b"")
    if fields.get("binary"):
        try:
            raw = binascii.unhexlify(fields["binary"])
        except (binascii.Error, ValueError):
            raise ValueError("binary is not hex") from None
    coding = _text(fields.get("coding", b""))
    return Reply(_sender(fields), _decoded(raw, _SMPP_CODINGS.get(coding, "utf-8")))


def _sender(fields: Mapping[str, bytes]) -> str:
    sender = _text(fields.get("from", b"")).strip()
    if not sender:
        raise ValueError("the reply names no sender (from)")
    return sender


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def _decoded(raw: bytes, encoding: str) -> str:
    try:
        return raw.decode(encoding or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know ("GSM"): Kannel's UTF-8 then
        return _text(raw)
