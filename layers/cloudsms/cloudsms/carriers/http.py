"""What HTTP gateway adapters share: their kept-alive sessions, and telling "never
reached the gateway" from "the gateway may have the message".

Only the first may be retried: after a read timeout the gateway may well have taken the
message, and sending it again could deliver it twice. The adapter raises OutcomeUnknown
then; the submit step keeps the message claimed and settles it by its lease (see
README, "Delivery guarantee").
"""

import threading

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

_kept = threading.local()


def session_for(endpoint: str) -> requests.Session:
    """The HTTP session to a gateway's endpoint, kept for the life of the container (one
    per thread where several invocations share a process, as locally).

    A warm Lambda container then reuses its connection to the gateway from one batch to
    the next instead of opening one (and a TLS handshake) for every batch: a verify code
    is a batch of its own. The environment's proxy settings for the endpoint are read
    once here; requests would otherwise read them, and look for a .netrc, on every call.
    """
    sessions: dict[str, requests.Session] = getattr(_kept, "sessions", None) or {}
    _kept.sessions = sessions
    if endpoint not in sessions:
        session = requests.Session()
        session.trust_env = False
        session.proxies.update(requests.utils.get_environ_proxies(endpoint))
        sessions[endpoint] = session
    return sessions[endpoint]


class OutcomeUnknown(Exception):
    """The request may have reached the gateway, but no answer came back."""


def never_reached(error: requests.RequestException) -> bool:
    if isinstance(error, requests.ConnectTimeout):
        return True
    if isinstance(error, requests.ConnectionError) and error.args:
        cause = error.args[0]
        if isinstance(cause, MaxRetryError):
            cause = cause.reason
        return isinstance(cause, NewConnectionError | ConnectTimeoutError)
    return False
