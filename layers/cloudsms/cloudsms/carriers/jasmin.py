"""The Jasmin gateway adapter: HTTP /send out, dlr-url receipts (form POSTs) back.

Jasmin names its own message id (`Success "<uuid>"`); its receipts carry that id, and our
uid, tenant and receipt secret travel in the dlr-url's query. Jasmin splits long
messages itself and reports a long message once, so a receipt is for the whole message.
"""

import re

import requests

from cloudsms.carriers.base import Submission, SubmitResult
from cloudsms.carriers.http import (
    credentials_refused,
    not_accepted,
    request_failed,
    shown_answer,
    shown_url,
)

SEND_PATH = "/send"

# Jasmin's coding: 0 the SMSC's default alphabet (GSM-7), 8 UCS-2.
_CODINGS = {"GSM-7": "0", "UCS-2": "8"}
_SUCCESS = re.compile(r'^Success\s+"([^"]+)"')
_ERROR = re.compile(r'^Error\s+"(.*)"$', re.DOTALL)
# Jasmin's answer (403) to a user name or password it does not know; its other 403,
# "Authorization failed", is a user's rights or filters refusing this message.
_CREDENTIALS_REFUSED = "Authentication failure"
# Handset receipts and the SMSC's: Jasmin's "3" asks for both.
DLR_LEVEL_BOTH = "3"
_MAX_REASON = 200


class JasminGateway:
    def __init__(
        self,
        endpoint: str,
        username: str,
        password: str,
        timeout: float = 5.0,
        session: requests.Session | None = None,
    ) -> None:
        self._url = endpoint.rstrip("/") + SEND_PATH
        self._username = username
        self._password = password
        self._timeout = timeout
        self._session = session or requests.Session()

    def __repr__(self) -> str:
        return f"JasminGateway({shown_url(self._url)!r}, username={self._username!r})"

    def submit(self, submission: Submission) -> SubmitResult:
        form = {
            "username": self._username,
            "password": self._password,
            "to": submission.to,
            "coding": _CODINGS.get(submission.encoding, "0"),
            "dlr": "yes",
            "dlr-url": submission.receipt_url,
            "dlr-level": DLR_LEVEL_BOTH,
            "dlr-method": "POST",
        }
        if submission.encoding == "UCS-2":
            # UCS-2 as hex, so no charset conversion on the way can mangle it
            form["hex-content"] = submission.text.encode("utf-16-be").hex()
        else:
            form["content"] = submission.text
        if submission.sender:
            form["from"] = submission.sender

        try:
            # POSTed as a form: the password stays out of URLs and access logs
            response = self._session.post(self._url, data=form, timeout=self._timeout)
        except requests.RequestException as error:
            return request_failed(error, "Jasmin")

        body = response.text.strip()
        found = _SUCCESS.match(body)
        if response.status_code == 200 and found:
            return SubmitResult(accepted=True, carrier_message_id=found.group(1))
        if response.status_code >= 500 and _ERROR.match(body):
            # Jasmin's own error (it cannot charge or queue the message): it did not take
            # it. A 5xx in other words may be a proxy's, with Jasmin's outcome unknown.
            reason = self._reason(response, submission)
            return SubmitResult(accepted=False, reason=reason, temporary=True)
        refusal = _ERROR.match(body)
        log_in_refused = refusal is not None and refusal.group(1).startswith(_CREDENTIALS_REFUSED)
        if response.status_code == 403 and log_in_refused:
            return credentials_refused(response.status_code)
        # 400 bad request, 403 rights, 412 no route: final
        return not_accepted(response.status_code, self._reason(response, submission))

    def _reason(self, response: requests.Response, submission: Submission) -> str:
        body = response.text.strip()
        found = _ERROR.match(body)
        text = shown_answer(found.group(1) if found else body, submission, self._password)
        return (
            f"HTTP {response.status_code}: {text[:_MAX_REASON]}"
            if text
            else (f"HTTP {response.status_code}")
        )
