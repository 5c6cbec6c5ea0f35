"""What HTTP gateway adapters share: their kept-alive sessions, and telling "never
reached the gateway" from "the gateway may have the message".

Only the first may be retried: after a read timeout the gateway may well have taken the
message, and sending it again could deliver it twice. The adapter raises OutcomeUnknown
then; the submit step keeps the message claimed and settles it by its lease (see
README, "Delivery guarantee").
"""

import re
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit, urlunsplit

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from cloudsms.carriers.base import Submission, SubmitResult
from cloudsms.domain.phone import mask_numbers_in

# A connection idle for longer is not used again. A gateway may close an idle connection
# just as a request goes out on it, and a request whose connection broke must count as
# possibly delivered, never to be sent again: so only connections in steady use are
# kept. 4 s is under the shortest common keep-alive timeout of servers (Apache's 5 s).
IDLE_REUSE_SECONDS = 4.0


@dataclass
class _Kept:
    session: requests.Session
    last_answer: float = 0.0  # time.monotonic() of the last response


_kept = threading.local()


def session_for(endpoint: str) -> requests.Session:
    """The HTTP session to a gateway's endpoint, kept for the life of the container (one
    per thread where several invocations share a process, as locally).

    A warm Lambda container then reuses its connection to the gateway from one batch to
    the next, while traffic is steady, instead of opening one (and a TLS handshake) for
    every batch: a verify code is a batch of its own. The environment's proxy settings
    for the endpoint are read once here; requests would otherwise read them, and look
    for a .netrc, on every call.
    """
    sessions: dict[str, _Kept] = getattr(_kept, "sessions", None) or {}
    _kept.sessions = sessions
    kept = sessions.get(endpoint)
    if kept is None:
        kept = sessions[endpoint] = _Kept(_new_session(endpoint))
        kept.session.hooks["response"].append(_stamp(kept))
    elif time.monotonic() - kept.last_answer > IDLE_REUSE_SECONDS:
        kept.session.close()  # drops its idle connections; the next request opens one
    return kept.session


def _new_session(endpoint: str) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.proxies.update(requests.utils.get_environ_proxies(endpoint))
    return session


def _stamp(kept: _Kept) -> Any:
    def answered(response: requests.Response, **kwargs: Any) -> requests.Response:
        kept.last_answer = time.monotonic()
        return response

    return answered


def shown_url(url: str) -> str:
    """`url` as an error or a log may show it: scheme://host:port/path. Its user info,
    query and fragment are left out, as they may hold credentials."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


# A secret parameter where an answer echoes a URL: plain, or percent-encoded once or twice
# (a dlr-url travels inside a query).
_SECRET_PARAMETER = re.compile(
    r"(secret(?:=|%3D|%253D))[^&\s\"'<>]*?(?=&|%26|%2526|[\s\"'<>]|$)", re.IGNORECASE
)


def shown_answer(text: str, submission: Submission, *secrets: str) -> str:
    """A gateway's answer as a reason the tenant reads and the logs keep. A gateway, or a
    proxy in front of it, may echo the request: the channel's credentials (`secrets`) and
    the receipt secret of the message's receipt URL are hidden, and phone numbers masked.
    """
    receipt_secret = parse_qs(urlsplit(submission.receipt_url).query).get("secret", [""])[0]
    for secret in (*secrets, receipt_secret):
        if secret:
            once = quote(secret, safe="")
            for form in (secret, once, quote(once, safe="")):
                text = text.replace(form, "***")
    return mask_numbers_in(_SECRET_PARAMETER.sub(r"\1***", text))


class OutcomeUnknown(Exception):
    """The request may have reached the gateway, but no answer came back."""


# Statuses by which a server says it did not act on the request (RFC 9110): the gateway
# does not have the message, which may be sent again later.
NOT_ACTED_ON = frozenset({429, 503})


def credentials_refused(status: int) -> SubmitResult:
    """The gateway refused the channel's log-in, not the message: it did not take it, and
    the credentials are the platform's to mend. An operator changing a gateway's password
    changes it on the gateway and on the channel one after the other; failing every
    message sent in between for good would lose the rest of a mission. So the message
    waits on its queue like one the gateway could not take for an outage (backoff, then
    the dead-letter queue to redrive once the credentials are right). Not in the
    gateway's words, which may name the user name: the tenant reads the reason."""
    return SubmitResult(
        accepted=False,
        reason=f"the gateway refused the channel's credentials (HTTP {status})",
        temporary=True,
    )


def not_accepted(status: int, reason: str) -> SubmitResult:
    """What an answer that is not an acceptance means for the message.

    401: the gateway refused the channel's credentials (`credentials_refused`). Another
    4xx: the gateway read the request and refused it, for good. 429 and 503: it did not
    act on it, so a retry later is safe. Anything else (another 5xx, often a proxy's 502
    or 504 while the gateway went on, or a 2xx or 3xx in words the adapter does not know)
    says nothing certain: the gateway may have the message, so this raises OutcomeUnknown
    and the claim and its lease decide, rather than send it twice or call it refused.
    """
    if status in NOT_ACTED_ON:
        return SubmitResult(accepted=False, reason=reason, temporary=True)
    if status == 401:
        return credentials_refused(status)
    if 400 <= status < 500:
        return SubmitResult(accepted=False, reason=reason)
    raise OutcomeUnknown(f"an answer that does not say whether the gateway took it: {reason}")


def request_failed(error: requests.RequestException, gateway: str) -> SubmitResult:
    """What a request that raised means for the message. One that never reached the
    gateway (`gateway` names it) was not taken, and may be sent again later; any other
    may have been: OutcomeUnknown. Named by the exception's type only: its text holds the
    request URL, and with it the password or a token. Nor by the endpoint: a tenant reads
    the reason (the channel's route id tells the operator which endpoint)."""
    if not _never_reached(error):
        raise OutcomeUnknown(f"no answer from the gateway: {type(error).__name__}") from None
    return SubmitResult(
        accepted=False, reason=f"{gateway} unreachable: {type(error).__name__}", temporary=True
    )


def _never_reached(error: requests.RequestException) -> bool:
    if isinstance(error, requests.ConnectTimeout):
        return True
    if isinstance(error, requests.ConnectionError) and error.args:
        cause = error.args[0]
        if isinstance(cause, MaxRetryError):
            cause = cause.reason
        return isinstance(cause, NewConnectionError | ConnectTimeoutError)
    return False
