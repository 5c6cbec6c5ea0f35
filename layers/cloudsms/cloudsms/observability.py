"""Logger, Tracer and Metrics shared by every function.

Phone numbers are masked in every log line; secrets are never passed to the logger.
"""

import logging
import warnings
from collections.abc import Iterable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_xray_sdk.core.models.throwable import Throwable

from cloudsms.domain.phone import mask_numbers_in

# Keys that hold ids and timestamps, never phone numbers: Powertools' own, and ours below.
_UNMASKED_KEYS = frozenset(
    {
        "level",
        "location",
        "timestamp",
        "service",
        "sampling_rate",
        "xray_trace_id",
        "correlation_id",
        "function_request_id",
        "function_arn",
        "function_name",
        "function_memory_size",
        "cold_start",
        # Ids the platform draws itself, all digits (a package's, an order's): masked they
        # could not be searched for.
        "package",
        "order",
    }
)


def _mask(value: Any) -> Any:
    if isinstance(value, str):
        return mask_numbers_in(value)
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask(v) for v in value]
    return value


# What one invocation adds to every line it logs: its Lambda context and correlation id.
_INVOCATION_KEYS = frozenset(
    {
        "cold_start",
        "function_name",
        "function_memory_size",
        "function_arn",
        "function_request_id",
        "correlation_id",
    }
)


class MaskingFormatter(LambdaPowertoolsFormatter):
    """Masks phone numbers in everything a log line says, whoever wrote it.

    An invocation's own keys are kept per thread. In Lambda nothing changes (a container
    runs one invocation at a time, on one thread); the local stack runs the invocations
    of every function at once in one process, and with one shared set of keys a line
    of the submit function would carry another function's name.
    """

    def serialize(self, log: dict[str, Any]) -> str:  # type: ignore[override]
        masked = {k: v if k in _UNMASKED_KEYS else _mask(v) for k, v in log.items()}
        return super().serialize(masked)

    def append_keys(self, **additional_keys: Any) -> None:
        own = {k: v for k, v in additional_keys.items() if k in _INVOCATION_KEYS}
        super().append_keys(**{k: v for k, v in additional_keys.items() if k not in own})
        if own:
            self.thread_safe_append_keys(**own)

    def remove_keys(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        super().remove_keys(keys)
        self.thread_safe_remove_keys(keys)

    def get_current_keys(self) -> dict[str, Any]:
        return {**self.log_format, **self.thread_safe_get_current_keys()}

    def clear_state(self) -> None:
        super().clear_state()
        self.thread_safe_clear_keys()


class QuietTracer(Tracer):
    """Traces each handler and method, but puts neither what it returns nor what it raises
    on the trace as metadata (Powertools' default puts both): answers hold secrets shown
    once (a callback's signing secret, a session token, a temporary password) and whole
    phone numbers, and an error's message may name a number."""

    def capture_lambda_handler(  # type: ignore[override]
        self,
        lambda_handler: Any = None,
        capture_response: bool = False,
        capture_error: bool = False,
    ) -> Any:
        return super().capture_lambda_handler(
            lambda_handler, capture_response=capture_response, capture_error=capture_error
        )

    def capture_method(  # type: ignore[override]
        self, method: Any = None, capture_response: bool = False, capture_error: bool = False
    ) -> Any:
        return super().capture_method(
            method, capture_response=capture_response, capture_error=capture_error
        )


_record_exception = Throwable.__init__


def _record_exception_masked(self: Throwable, exception: Any, stack: Any, remote: bool = False):
    _record_exception(self, exception, stack, remote)
    if isinstance(getattr(self, "message", None), str):
        self.message = mask_numbers_in(self.message)


# The X-Ray SDK writes the message of an exception leaving a traced method on the trace
# (a 404 may name a number), and offers no setting to leave it out: it is masked as a
# log line is. The SDK builds every recorded exception through this class.
Throwable.__init__ = _record_exception_masked  # type: ignore[method-assign]


logger = Logger(logger_formatter=MaskingFormatter())
tracer = QuietTracer()
# Powertools' tracer logs every exception a traced method raises at ERROR, with its
# message and past the masking above: a 404 naming a number would be logged whole, and
# every refused request as an error. The code that handles an exception logs what
# matters of it, and Lambda logs one nothing handled.
logging.getLogger("aws_lambda_powertools.tracing.tracer").setLevel(logging.CRITICAL)
metrics = Metrics()
# Most invocations publish a metric only when something happened (a batch that changed
# no state, a receipt that moved nothing): an invocation without one is normal, and
# Powertools' warning about it would be a line of noise in every container's log.
warnings.filterwarnings("ignore", "No application metrics to publish*")
