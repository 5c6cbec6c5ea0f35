"""How a delivery receipt is parsed, whichever gateway delivered it.

Pure functions: they take what arrived on the wire and return a `Receipt`. Carriers
bend the formats, so every parser is tolerant: missing fields are None, never errors.
See CARRIERS.md for the formats.
"""

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

from cloudsms.carriers.base import Receipt
from cloudsms.domain.states import DrState

# --- SMPP 3.4 receipt text -------------------------------------------------------------

_SMPP_KEY = re.compile(r"(?i)(?<!\S)(id|sub|dlvrd|submit[ _]date|done[ _]date|stat|err|text):")

# `stat` values as carriers spell them, including the long forms some of them use.
_STAT_STATES = {
    "DELIVRD": DrState.DELIVRD,
    "DELIVERED": DrState.DELIVRD,
    "UNDELIV": DrState.UNDELIV,
    "UNDELIVERABLE": DrState.UNDELIV,
    "EXPIRED": DrState.EXPIRED,
    "DELETED": DrState.DELETED,
    "REJECTD": DrState.REJECTD,
    "REJECTED": DrState.REJECTD,
    "UNKNOWN": DrState.UNKNOWN,
    "ACCEPTD": DrState.ACCEPTD,
    "ACCEPTED": DrState.ACCEPTD,
    "ENROUTE": DrState.ENROUTE,
    # not final either: the message waits at the SMSC for its scheduled time
    "SCHEDLD": DrState.ENROUTE,
    # SMPP 5.0: the SMSC dropped the message without trying to deliver it
    "SKIPPED": DrState.UNDELIV,
}

# The numeric `message_state` TLV (0x0427), which some gateways pass instead of the text.
_MESSAGE_STATES = {
    "0": DrState.ENROUTE,  # SCHEDLD
    "1": DrState.ENROUTE,
    "2": DrState.DELIVRD,
    "3": DrState.EXPIRED,
    "4": DrState.DELETED,
    "5": DrState.UNDELIV,
    "6": DrState.ACCEPTD,
    "7": DrState.UNKNOWN,
    "8": DrState.REJECTD,
    "9": DrState.UNDELIV,  # SKIPPED
}


def parse_smpp_receipt_text(text: str) -> dict[str, str]:
    """Split an SMPP receipt text into its fields.

    Keys are `id`, `sub`, `dlvrd`, `submit_date`, `done_date`, `stat`, `err` and `text`;
    a field that is absent is absent from the dict. Fields may come in any order, but
    `text:` takes the rest of the line, because the message excerpt may hold anything.
    """
    fields: dict[str, str] = {}
    line = text.strip().splitlines()[0] if text.strip() else ""
    matches = list(_SMPP_KEY.finditer(line))
    for i, match in enumerate(matches):
        key = match.group(1).lower().replace(" ", "_")
        if key == "text":
            fields[key] = line[match.end() :]
            break
        end = matches[i + 1].start() if i + 1 < len(matches) else len(line)
        value = line[match.end() : end].split()
        if value and key not in fields:
            fields[key] = value[0]
    return fields


def state_from_stat(stat: str | None) -> DrState | None:
    """The delivery state a receipt's `stat` (or numeric message_state) names, if any."""
    if not stat:
        return None
    stat = stat.strip().upper()
    return _STAT_STATES.get(stat) or _MESSAGE_STATES.get(stat.lstrip("0") or "0")


def parse_receipt_date(value: str | None) -> datetime | None:
    """`YYMMDDhhmm`, `YYMMDDhhmmss` or `YYYYMMDDhhmmss`, read as UTC.

    SMPP receipt dates carry no zone; UTC is the only reading that does not depend on
    where our code runs.
    """
    if not value or not value.isdigit():
        return None
    formats = {10: "%y%m%d%H%M", 12: "%y%m%d%H%M%S", 14: "%Y%m%d%H%M%S"}
    fmt = formats.get(len(value))
    if fmt is None:
        return None
    try:
        return datetime.strptime(value, fmt).replace(tzinfo=UTC)
    except ValueError:
        return None


def receipt_from_smpp_text(text: str) -> Receipt:
    """A receipt from SMPP receipt text; a `stat` we do not know reads as UNKNOWN.

    Raises ValueError when there is no `stat` at all: that is not a receipt, and
    reading it as UNKNOWN would make the message final.
    """
    fields = parse_smpp_receipt_text(text)
    if "stat" not in fields:
        raise ValueError("not an SMPP delivery receipt: no stat")
    return Receipt(
        state=state_from_stat(fields.get("stat")) or DrState.UNKNOWN,
        carrier_message_id=fields.get("id"),
        error_code=fields.get("err"),
        done_at=parse_receipt_date(fields.get("done_date")),
        raw=text,
        extra=fields,
    )


# --- Kannel dlr-url callback -----------------------------------------------------------

# Kannel's %d is a bit mask (dlr.h): several bits can be set at once.
KANNEL_DELIVERED = 0x01
KANNEL_UNDELIVERED = 0x02
KANNEL_QUEUED_ON_SMSC = 0x04
KANNEL_SMSC_ACCEPTED = 0x08
KANNEL_SMSC_REJECTED = 0x10

# The query names our dlr-url gives Kannel's escapes (see carriers/kannel.py).
KANNEL_DLR_QUERY = "status=%d&answer=%A&smsc_msgid=%F&ts=%T"
_KANNEL_FIELDS = ("status", "answer", "smsc_msgid", "ts")


def shown_fields(fields: Mapping[str, str]) -> str:
    """A receipt's fields as the gateway sent them, for an operator to read: a query
    string, its separators and spaces left as they are ("answer=id:77 stat:DELIVRD")."""
    return urlencode(fields, safe=" :/", quote_via=quote)


def receipt_from_kannel(params: Mapping[str, str]) -> Receipt:
    """A receipt from the query of our Kannel dlr-url.

    Names: `uid` (ours), `status` (%d), `answer` (%A), `smsc_msgid` (%F), `ts` (%T).
    When the answer is a handset receipt with a `stat`, the stat wins over the bits:
    Kannel folds EXPIRED, DELETED, REJECTD and UNKNOWN into one "not delivered" bit.
    Raises ValueError when neither the bits nor a stat say anything: reading such a
    callback as UNKNOWN would make the message final.
    """
    answer = params.get("answer") or ""
    mask = _int_or_zero(params.get("status"))
    fields = parse_smpp_receipt_text(answer)
    stat_state = state_from_stat(fields.get("stat"))
    error_code = fields.get("err")

    if stat_state is not None:
        state = stat_state
    elif mask & KANNEL_SMSC_REJECTED:
        # the SMSC refused the submit_sm: the answer is "NACK/<status>/<text>"
        state, error_code = DrState.REJECTD, answer or None
    elif mask & KANNEL_UNDELIVERED:
        state, error_code = DrState.UNDELIV, error_code or answer or None
    elif mask & KANNEL_DELIVERED:
        state = DrState.DELIVRD
    elif mask & KANNEL_SMSC_ACCEPTED:
        # only the SMSC's acknowledgement of the submit, not a word from the handset
        state = DrState.ACCEPTD
    elif mask & KANNEL_QUEUED_ON_SMSC:
        state = DrState.ENROUTE
    elif "stat" in fields:
        state = DrState.UNKNOWN  # a stat we do not know, and no bit to fall back on
    else:
        raise ValueError("not a Kannel delivery report: no report bits and no stat")

    extra = {"status": str(mask), **fields}
    # Kannel's own fields only: the rest of the query holds the channel's secret.
    kept = {key: params[key] for key in _KANNEL_FIELDS if params.get(key)}
    return Receipt(
        state=state,
        uid=params.get("uid") or None,
        # for handset receipts %F is the SMSC's message id; the receipt's id repeats it
        carrier_message_id=params.get("smsc_msgid") or fields.get("id") or None,
        error_code=error_code,
        done_at=parse_receipt_date(fields.get("done_date")) or _from_unix(params.get("ts")),
        raw=shown_fields(kept),
        extra=extra,
    )


# --- Jasmin dlr-url callback -----------------------------------------------------------

_JASMIN_FIELDS = (
    "id",
    "message_status",
    "level",
    "connector",
    "id_smsc",
    "sub",
    "dlvrd",
    "subdate",
    "donedate",
    "err",
    "text",
)

# The submit_sm_resp statuses Jasmin's SMPP client submits again itself, by default
# (jasmin.cfg [sm-listener] submit_error_retrial: a throttled message up to 20 times, 30 s
# apart). Its level-1 receipt still reports the refusal, and Jasmin then drops the
# message's receipt request, so no later receipt comes for it.
JASMIN_RETRIES = frozenset({"ESME_RSYSERR", "ESME_RTHROTTLED", "ESME_RMSGQFUL", "ESME_RINVSCHED"})


def receipt_from_jasmin(form: Mapping[str, str]) -> Receipt:
    """A receipt from Jasmin's form: level 1 is the SMSC's answer, 2 and 3 the handset's.

    `form` is Jasmin's receipt fields, plus our `uid` when the caller adds it from the
    dlr-url query. Raises ValueError when there is no message_status.
    """
    status = (form.get("message_status") or "").strip()
    if not status:
        raise ValueError("not a Jasmin delivery report: no message_status")
    if status.upper().startswith("ESME_"):
        # level 1: the submit_sm_resp command status
        if status.upper() == "ESME_ROK":
            state, error_code = DrState.ACCEPTD, None
        elif status.upper() in JASMIN_RETRIES:
            # Still on its way: Jasmin submits it again, and sending it again from here
            # too would deliver it twice. No final receipt follows: the receipt timeout
            # settles it.
            state, error_code = DrState.ENROUTE, status
        else:
            state, error_code = DrState.REJECTD, status
    else:
        state = state_from_stat(status) or DrState.UNKNOWN
        error_code = form.get("err") or None
    # only Jasmin's own fields are kept, so that nothing else the caller merged is stored
    fields = {key: form[key] for key in _JASMIN_FIELDS if key in form}
    return Receipt(
        state=state,
        uid=form.get("uid") or None,
        carrier_message_id=form.get("id") or None,
        error_code=error_code,
        done_at=parse_receipt_date(form.get("donedate")),
        raw=shown_fields(fields),
        extra=fields,
    )


# --- error classification --------------------------------------------------------------

# GSM MAP errors (3GPP TS 29.002) that a later attempt can get past: the handset is off
# or out of coverage, busy, full, or the network failed. Every other code is permanent.
_TEMPORARY_GSM_ERRORS = frozenset(
    {
        6,  # absentSubscriberSM
        27,  # absentSubscriber
        31,  # subscriberBusyForMT-SMS
        32,  # sm-DeliveryFailure (memory capacity exceeded)
        33,  # messageWaitingListFull
        34,  # systemFailure
    }
)

# SMPP command statuses that mean "not now" rather than "never".
_TEMPORARY_SMPP_STATUSES = {
    "ESME_RSYSERR": 0x08,
    "ESME_RMSGQFUL": 0x14,
    "ESME_RTHROTTLED": 0x58,
    "ESME_RX_T_APPN": 0x64,
}


def classify_error(code: str | None) -> str:
    """Whether a failure may pass on a later attempt: "temporary", else "permanent".

    The default classification of CARRIERS.md; channels may map their own codes.

    Takes a receipt `err` (decimal, with or without leading zeros, or 0x-hex), an SMPP
    status name (`ESME_RTHROTTLED`) or Kannel's `NACK/0x00000058/...` answer. A code we
    cannot read is permanent: retrying blindly costs money and annoys the recipient.
    """
    if not code:
        return "permanent"
    code = code.strip()
    if code.upper().startswith("ESME_"):
        return "temporary" if code.upper() in _TEMPORARY_SMPP_STATUSES else "permanent"
    if code.upper().startswith("NACK/"):
        status = _parse_int(code.split("/")[1] if code.count("/") else "")
        temporary = status in _TEMPORARY_SMPP_STATUSES.values()
        return "temporary" if temporary else "permanent"
    return "temporary" if _parse_int(code) in _TEMPORARY_GSM_ERRORS else "permanent"


def error_code_key(code: str) -> str:
    """A receipt's `err` as a channel's error-code meanings are looked up by: carriers
    write one code as "001", "1" or "0x01", so a number is its decimal value; any other
    code its upper case."""
    code = code.strip()
    number = _parse_int(code)
    return str(number) if number is not None and number >= 0 else code.upper()


def _parse_int(value: str) -> int | None:
    try:
        return int(value, 16) if value.lower().startswith("0x") else int(value)
    except ValueError:
        return None


def _int_or_zero(value: str | None) -> int:
    return _parse_int(value or "") or 0


def _from_unix(value: str | None) -> datetime | None:
    seconds = _parse_int(value or "")
    return datetime.fromtimestamp(seconds, UTC) if seconds else None
