"""What HTTP gateway adapters share: telling "never reached the gateway" from "the
gateway may have the message".

Only the first may be retried: after a read timeout the gateway may well have taken the
message, and sending it again could deliver it twice. The adapter raises OutcomeUnknown
then; the submit step keeps the message claimed and settles it by its lease (see
README, "Delivery guarantee").
"""

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError


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
