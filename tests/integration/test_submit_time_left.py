"""A slow gateway and Lambda's timeout: the submit function hands a message over only
while the invocation has time for it, and puts the rest back on the queue at once."""

import json

from cloudsms.store.messages import MessageModel
from functions.send import app as send_app
from functions.send import submit as submit_app
from tests.integration.conftest import FakeContext, api_event
from tests.integration.submit_records import event, queued_records

NUMBERS = [f"+6392153475{n}6" for n in range(5)]  # the simulator accepts numbers ending in 6


class SlowGatewayContext(FakeContext):
    """An invocation of 30 s whose gateway takes 8 s a message: the time left is what the
    messages handed over so far have used."""

    def __init__(self, simulator) -> None:
        self.simulator = simulator

    def get_remaining_time_in_millis(self) -> int:
        return 30_000 - 8_000 * len(self.simulator.submissions)


def test_what_a_slow_gateway_cannot_take_before_the_timeout_goes_back_unclaimed(
    aws, live_channel, carrier_simulator, context
):
    body = {"to": NUMBERS, "text": "Hi", "sms_type": "business", "channel": live_channel}
    answer = send_app.lambda_handler(api_event("POST", "/v1/sms", "/v1/sms", body=body), context)
    uids = [m["uid"] for m in json.loads(answer["body"])["messages"]]
    [record] = queued_records(aws)

    response = submit_app.lambda_handler(event(record), SlowGatewayContext(carrier_simulator))

    # Two went (30 s and 22 s left); with 14 s left a third might not be answered in
    # time (two gateway timeouts and its writes): it and the rest are back on the queue,
    # still QUEUED, and the record succeeded rather than waiting out its visibility.
    assert response == {"batchItemFailures": []}
    assert [s["to"] for s in carrier_simulator.submissions] == NUMBERS[:2]
    states = [MessageModel.get("acme", uid).dr_state for uid in uids]
    assert states == ["SUBMITTED"] * 2 + ["QUEUED"] * 3
    [again] = queued_records(aws)
    assert json.loads(again["body"])["uids"] == uids[2:]

    # The next invocation, with time to spare, sends the rest: each message once.
    assert submit_app.lambda_handler(event(again), context) == {"batchItemFailures": []}
    assert sorted(s["to"] for s in carrier_simulator.submissions) == sorted(NUMBERS)
    assert {MessageModel.get("acme", uid).dr_state for uid in uids} == {"SUBMITTED"}
