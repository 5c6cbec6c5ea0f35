"""A prepared export's attempts fit in the hour after which its tenant is told it
failed, as the template's export queue and function make them."""

from datetime import timedelta

from cloudsms.services import prepared_exports
from cloudsms.services.redelivery import backoff_seconds
from cloudsms_local.template import load_template


def test_the_export_attempts_are_the_queues_and_as_long_as_the_functions_timeout():
    resources = load_template()["Resources"]

    queue = resources["ExportQueue"]["Properties"]
    function = resources["ExportFunction"]["Properties"]

    assert queue["RedrivePolicy"]["maxReceiveCount"] == prepared_exports.ATTEMPTS
    assert timedelta(seconds=function["Timeout"]) == prepared_exports.ATTEMPT_TIME


def test_every_attempt_and_its_wait_fit_before_the_export_is_given_up():
    waits = [
        backoff_seconds(
            receipt, prepared_exports.RETRY_WAIT_SECONDS, prepared_exports.RETRY_WAIT_MAX_SECONDS
        )
        for receipt in range(1, prepared_exports.ATTEMPTS)
    ]

    longest = prepared_exports.ATTEMPTS * prepared_exports.ATTEMPT_TIME + timedelta(
        seconds=sum(waits)
    )

    assert longest <= prepared_exports.GIVE_UP_AFTER
