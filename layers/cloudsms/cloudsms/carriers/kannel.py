"""The Kannel gateway adapter: HTTP sendsms out, dlr-url receipts back.

Kannel's sendsms answer names no message id, so our own uid is the carrier message id
and travels in the dlr-url; `receipts.receipt_from_kannel` reads the callback.
"""

import requests

from cloudsms.carriers.base import Submission, SubmitResult
from cloudsms.carriers.http import (
    credentials_refused,
    not_accepted,
    request_failed,
    shown_answer,
    shown_url,
)
from cloudsms.carriers.receipts import KANNEL_DLR_QUERY

SENDSMS_PATH = "/cgi-bin/sendsms"

# Kannel's coding parameter: 0 GSM-7, 2 UCS-2 (its "1" is 8-bit data, which we never send)
_CODINGS = {"GSM-7": "0", "UCS-2": "2"}

# Every report Kannel can give: handset delivered/failed, queued, SMSC accepted/rejected.
DLR_MASK_ALL = 31

# Kannel answers "0: Accepted for delivery", or "3: Queued for later delivery" while
# the SMSC is down; both mean it has taken the message.
_ACCEPTED_PREFIXES = ("0:", "3:")
# smsbox's answer to a sendsms-user name or password it does not know (a 403; older
# versions answered it with another status, so the words decide).
_CREDENTIALS_REFUSED = "Authorization failed for sendsms"


def kannel_dlr_url(receipt_url: str) -> str:
    """Our receipt URL with Kannel's escapes appended, ready to pass as dlr-url.

    Kannel expands every `%x` in the dlr-url, and several escapes are hex digits
    (%A, %B, %C, %D, %F ...), so a percent-encoded byte such as `%C3` in our own query
    would be replaced. `%%` is Kannel's escape for a literal `%`.
    """
    separator = "&" if "?" in receipt_url else "?"
    return receipt_url.replace("%", "%%") + separator + KANNEL_DLR_QUERY


class KannelGateway:
    def __init__(
        self,
        endpoint: str,
        username: str,
        password: str,
        smsc: str | None = None,
        timeout: float = 5.0,
        session: requests.Session | None = None,
    ) -> None:
        self._url = endpoint.rstrip("/") + SENDSMS_PATH
        self._username = username
        self._password = password
        self._smsc = smsc
        self._timeout = timeout
        self._session = session or requests.Session()

    def __repr__(self) -> str:
        return f"KannelGateway({shown_url(self._url)!r}, username={self._username!r})"

    def submit(self, submission: Submission) -> SubmitResult:
        params = {
            "username": self._username,
            "password": self._password,
            "to": submission.to,
            "text": submission.text,
            "coding": _CODINGS.get(submission.encoding, "0"),
            "charset": "UTF-8",
            "dlr-mask": str(DLR_MASK_ALL),
            # requests encodes the whole URL as one value; smsbox decodes it once
            "dlr-url": kannel_dlr_url(submission.receipt_url),
        }
        if submission.sender:
            params["from"] = submission.sender
        if self._smsc:
            params["smsc"] = self._smsc

        try:
            response = self._session.get(self._url, params=params, timeout=self._timeout)
        except requests.RequestException as error:
            return request_failed(error, "Kannel")

        body = response.text.strip()
        if response.status_code == 202 or body.startswith(_ACCEPTED_PREFIXES):
            return SubmitResult(accepted=True, carrier_message_id=submission.uid)
        # Kannel does not echo the request, but a proxy in front of it might.
        reason = shown_answer(body, submission, self._password)[:200]
        if body.startswith(_CREDENTIALS_REFUSED):
            return credentials_refused(response.status_code)
        # Kannel refuses with a 4xx, and answers 503 when it cannot queue the message
        return not_accepted(response.status_code, reason or f"HTTP {response.status_code}")
